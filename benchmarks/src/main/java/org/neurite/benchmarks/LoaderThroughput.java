package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;
import static org.neurite.benchmarks.CommandLineOptions.stringOption;
import static org.neurite.benchmarks.WorkloadThroughput.median;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.data.EpochOrder;
import org.neurite.data.IdxFolderStream;
import org.neurite.data.IdxWriter;
import org.neurite.data.ImageFolder;
import org.neurite.data.StreamingLoader;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.train.MemoryBound;
import org.neurite.train.TrainSpec;

/**
 * Samples per second of the streaming loader alone — an IDX file read by offset, a folder of
 * 28 x 28 PNGs and one of 128 x 128 JPEGs decoded per chunk — drawn in shuffled epochs of
 * {@code --batch} as training draws them, against the CPU backend's training throughput of a
 * workload ({@link WorkloadThroughput}'s measurement, lenet5 by default) in the same run, and that
 * workload trained on the streamed IDX file (the loader's threads then share the cores with
 * training). Each figure is the median of {@code --rounds} epochs after one of warm-up. The data
 * is generated into {@code --dir} (a temporary folder by default, deleted afterwards); one JSON
 * line per measurement, then the ratios.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.LoaderThroughput examples/lenet5.nn --samples 60000 --pictures 6000 --photos 1000 --memory 64m</pre>
 */
public final class LoaderThroughput {
    private LoaderThroughput() {}

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args.length > 0 && !args[0].startsWith("--") ? args[0] : "examples/lenet5.nn");
        int batch = intOption(args, "--batch", 64);
        int steps = intOption(args, "--steps", 50);
        int rounds = intOption(args, "--rounds", 5);
        int threads = intOption(args, "--threads", 2);
        int loaderThreads = intOption(args, "--loader-threads", StreamingLoader.defaultThreads());
        int samples = intOption(args, "--samples", 60_000);
        int pictures = intOption(args, "--pictures", 6_000);
        int photos = intOption(args, "--photos", 1_000);
        MemoryBound memory = MemoryBound.parse(stringOption(args, "--memory", "64m"));
        String given = stringOption(args, "--dir", null);
        Path dir = given != null ? Files.createDirectories(Path.of(given)) : Files.createTempDirectory("neurite-loader-");

        System.out.printf(Locale.ROOT, "{\"processors\": %d, \"jdk\": \"%s\", \"memory\": \"%s\", \"loader_threads\": %d}%n",
                Runtime.getRuntime().availableProcessors(), Runtime.version(), memory, loaderThreads);
        try {
            Path idx = writeIdx(dir.resolve("idx"), samples);
            Dataset streamedIdx = IdxFolderStream.open(idx, new StreamingLoader(memory, loaderThreads)).train();
            double idxRate = report("idx", "28x28 bytes by offset", streamedIdx, batch, rounds);

            Path png = writePictures(dir.resolve("png"), pictures, 28, BufferedImage.TYPE_BYTE_GRAY, "png");
            double pngRate = report("png", "28x28 grey PNG -> [1, 28, 28]",
                    ImageFolder.stream(png, Shape.of(1, 28, 28), ImageFolder.classNames(png), "training",
                            new StreamingLoader(memory, loaderThreads)), batch, rounds);

            Path jpeg = writePictures(dir.resolve("jpeg"), photos, 128, BufferedImage.TYPE_INT_RGB, "jpg");
            report("jpeg", "128x128 colour JPEG -> [3, 64, 64]",
                    ImageFolder.stream(jpeg, Shape.of(3, 64, 64), ImageFolder.classNames(jpeg), "training",
                            new StreamingLoader(memory, loaderThreads)), batch, rounds);

            NeuriteRuntime runtime = NeuriteRuntime.discover();
            Script parsed = new ScriptLoader(runtime.layers()).load(script);
            TypedGraph graph = parsed.mainModel();
            String workload = graph.graph().name();
            TrainSpec spec = parsed.training(workload).orElse(TrainSpec.defaults(workload)).with(batch, 1, 1);
            double[] held;
            double[] streamed;
            try (Backend backend = runtime.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {});
                 ParameterStore store = new ParameterStore(graph, backend, 1);
                 Trainer trainer = new Trainer(graph, store, spec)) {
                held = WorkloadThroughput.trainingRounds(trainer, WorkloadThroughput.randomClassification(graph, batch * steps), rounds);
                streamed = WorkloadThroughput.trainingRounds(trainer, streamedIdx.head(batch * steps), rounds);
            }
            double train = median(held);
            System.out.printf(Locale.ROOT, "{\"workload\": \"%s\", \"threads\": %d, \"train_samples_per_second\": %.1f, "
                            + "\"train_streamed_idx_samples_per_second\": %.1f, \"rounds\": %s, \"streamed_rounds\": %s}%n",
                    workload, threads, train, median(streamed), Arrays.toString(rounded(held)), Arrays.toString(rounded(streamed)));
            System.out.printf(Locale.ROOT, "{\"idx_vs_training\": %.1f, \"png_vs_training\": %.1f}%n", idxRate / train, pngRate / train);
        } finally {
            if (given == null) deleteTree(dir);
        }
    }

    /** Median samples/s of drawing every batch of shuffled epochs from {@code data}, printed as one JSON line. */
    private static double report(String name, String what, Dataset data, int batch, int rounds) {
        int n = data.size();
        EpochOrder epochs = new EpochOrder(1, n);
        int[] order = new int[n];
        float[] x = new float[batch * data.sampleSize()];
        float[] y = new float[batch * data.targetSize()];
        double[] rates = new double[rounds];
        for (int r = -1; r < rounds; r++) {            // round -1 warms up: the JIT, the page cache
            epochs.fill(r + 1, order);
            long start = System.nanoTime();
            for (int from = 0; from < n; from += batch) data.copyBatch(order, from, Math.min(batch, n - from), x, y);
            if (r >= 0) rates[r] = n / ((System.nanoTime() - start) / 1e9);
        }
        System.out.printf(Locale.ROOT, "{\"loader\": \"%s\", \"what\": \"%s\", \"samples\": %d, \"samples_per_second\": %.1f, "
                + "\"rounds\": %s}%n", name, what, n, median(rates), Arrays.toString(rounded(rates)));
        return median(rates);
    }

    /** {@code count} images of 28 x 28 hashed noise and labels 0-9 (and a sixth as many test images). */
    private static Path writeIdx(Path folder, int count) throws IOException {
        for (String split : List.of("train", "t10k")) {
            int n = split.equals("train") ? count : Math.max(1, count / 6);
            IdxWriter.write(folder.resolve(split + "-images-idx3-ubyte"), new int[] {n, 28, 28}, (offset, block, k) -> {
                for (int i = 0; i < k; i++) block[i] = (byte) ((offset + i) * 0x9E3779B97F4A7C15L >>> 56);
            });
            IdxWriter.write(folder.resolve(split + "-labels-idx1-ubyte"), new int[] {n}, (offset, block, k) -> {
                for (int i = 0; i < k; i++) block[i] = (byte) ((offset + i) % 10);
            });
        }
        return folder;
    }

    /** {@code count} pictures of {@code side} x {@code side} in ten class folders: a few filled ovals each, seeded. */
    private static Path writePictures(Path root, int count, int side, int type, String format) throws IOException {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < count; i++) {
            Path file = Files.createDirectories(root.resolve("class" + i % 10)).resolve(i + "." + format);
            BufferedImage image = new BufferedImage(side, side, type);
            var g = image.createGraphics();
            for (int s = 0; s < 4; s++) {
                g.setColor(new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256)));
                g.fillOval(random.nextInt(side), random.nextInt(side), 1 + random.nextInt(side / 2), 1 + random.nextInt(side / 2));
            }
            g.dispose();
            ImageIO.write(image, format, file.toFile());
        }
        return root;
    }

    private static long[] rounded(double[] v) {
        return Arrays.stream(v).mapToLong(Math::round).toArray();
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
