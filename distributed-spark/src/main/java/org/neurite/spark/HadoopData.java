package org.neurite.spark;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * A dataset folder named by a Hadoop file-system URI ({@code hdfs://…}, {@code s3a://…},
 * {@code file:///…}: whatever file systems the cluster's Hadoop configuration knows), copied
 * once per JVM into a local cache folder so the IDX readers can read it. Only the IDX files
 * ({@code train-*}, {@code t10k-*}) are copied; each lands under a temporary name and is renamed
 * into place, so a copy interrupted half-way is never mistaken for the data.
 */
final class HadoopData {
    private HadoopData() {}

    /** The local folder holding the IDX files of {@code uri}, copying them on first use. */
    static synchronized Path localCopy(String uri) throws IOException {
        Path cache = Path.of(System.getProperty("java.io.tmpdir"), "neurite-spark-data", WorkerJob.key(uri).substring(0, 16));
        Path done = cache.resolve(".complete");
        if (Files.exists(done)) return cache;
        Files.createDirectories(cache);
        URI source = URI.create(uri);
        FileSystem fs = FileSystem.get(source, new Configuration());
        org.apache.hadoop.fs.Path folder = new org.apache.hadoop.fs.Path(source);
        if (!fs.exists(folder)) throw new IOException(uri + ": no such folder");
        List<String> copied = new ArrayList<>();
        for (FileStatus f : fs.listStatus(folder)) {
            String name = f.getPath().getName();
            if (!f.isFile() || !(name.startsWith("train-") || name.startsWith("t10k-"))) continue;
            Path partial = cache.resolve(name + ".part");
            try (var in = fs.open(f.getPath())) {
                Files.copy(in, partial, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(partial, cache.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            copied.add(name);
        }
        if (copied.isEmpty()) throw new IOException(uri + " holds no IDX files (train-*, t10k-*)");
        Files.writeString(done, String.join("\n", copied) + "\n");
        return cache;
    }
}
