package org.neurite.spark;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@code spark-submit --conf K=V} does for a driver in client mode: sets {@code spark.*}
 * system properties, which every {@code new SparkConf()} (so {@link SparkRun}'s) reads. Closing
 * puts back the values the properties had before, so the other test classes of the JVM see none.
 */
final class SubmitSettings implements AutoCloseable {
    private final Map<String, String> previous = new LinkedHashMap<>();

    SubmitSettings(Map<String, String> settings) {
        settings.forEach((key, value) -> {
            if (!key.startsWith("spark.")) throw new IllegalArgumentException("not a Spark setting: " + key);
            previous.put(key, System.getProperty(key));
            System.setProperty(key, value);
        });
    }

    /**
     * The settings the README's {@code spark-submit} recipe passes, for a client-mode driver on
     * this machine: every port of the driver on 127.0.0.1, no driver UI, one executor of one core
     * and {@code executorMemory} per worker, {@code workers} in all, Neurite's jars shipped to
     * them, and the JDK's vector module and the CPU backend's JIT setting (backend-cpu/README.md)
     * in the executors (Spark adds the packages it opens itself).
     */
    static Map<String, String> forCluster(String jars, int workers, String executorMemory) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("spark.jars", jars);
        s.put("spark.driver.host", "127.0.0.1");
        s.put("spark.driver.bindAddress", "127.0.0.1");
        s.put("spark.ui.enabled", "false");
        s.put("spark.executor.cores", "1");
        s.put("spark.cores.max", Integer.toString(workers));
        s.put("spark.executor.memory", executorMemory);
        s.put("spark.executor.extraJavaOptions", "--add-modules jdk.incubator.vector -XX:InlineSmallCode=10000");
        return s;
    }

    @Override public void close() {
        previous.forEach((key, value) -> {
            if (value == null) System.clearProperty(key);
            else System.setProperty(key, value);
        });
    }
}
