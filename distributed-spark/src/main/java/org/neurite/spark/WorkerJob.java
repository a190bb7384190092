package org.neurite.spark;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Everything a worker needs to rebuild the driver's run by itself: the script's source (it
 * compiles it), the model, the command line's overrides, the backend and where the data is.
 * Travels to executors as one JSON string inside Spark's closures, so no Neurite object is ever
 * Java-serialised; {@link #key()} (a hash of that string) keys the per-JVM caches of
 * {@link Workers}.
 *
 * @param script the canonical script source
 * @param scriptFile the script's path on the driver (messages, and relative data files)
 * @param model the model trained
 * @param batch the global batch size
 * @param epochs epochs of the run, so the worker's spec matches the driver's (a cosine schedule
 *     anneals over them in parameter averaging, where workers step their own optimisers)
 * @param seed the run's seed
 * @param backend backend name for the workers
 * @param threads backend threads per worker (0 = all cores)
 * @param plugins extra plugin folders
 * @param dataFolder the folder the driver read IDX files from, or null for the standard search
 * @param dataUri a Hadoop file-system URI of the IDX folder, or null
 * @param limit only the first N training samples, or 0 for all
 * @param partitions slices per global batch
 */
record WorkerJob(String script, String scriptFile, String model, int batch, int epochs, long seed, String backend,
                 int threads, List<String> plugins, String dataFolder, String dataUri, int limit, int partitions) {
    private static final ObjectMapper JSON = new ObjectMapper();

    String encode() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a worker job", e);
        }
    }

    static WorkerJob decode(String json) {
        try {
            return JSON.readValue(json, WorkerJob.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("damaged worker job: " + e.getOriginalMessage(), e);
        }
    }

    /** A hash of the encoded job: equal jobs share compiled models and datasets on an executor. */
    static String key(String encoded) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(encoded.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
