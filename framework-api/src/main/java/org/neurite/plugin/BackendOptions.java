package org.neurite.plugin;

/**
 * Deployment settings a backend is created with.
 *
 * @param threads worker threads; 0 means one per available core
 * @param device device selector (index, type or name substring); null for the default
 */
public record BackendOptions(int threads, String device) {
    /**
     * The most worker threads a backend is given. More than any machine's cores: each is a
     * native thread, and asking for 100,000 of them spent a minute in {@code pthread_create}
     * failures before the JVM ran out of them.
     */
    public static final int MAX_THREADS = 1024;

    /** The thread counts accepted, as messages say them. */
    public static final String THREADS_RANGE = "from 0 (all cores) to " + MAX_THREADS;

    public BackendOptions {
        if (!validThreads(threads)) throw new IllegalArgumentException("threads must be " + THREADS_RANGE + ", got " + threads);
    }

    /** Whether {@code threads} is a thread count a backend accepts: 0 (one per core) up to {@link #MAX_THREADS}. */
    public static boolean validThreads(int threads) {
        return threads >= 0 && threads <= MAX_THREADS;
    }

    public static BackendOptions defaults() { return new BackendOptions(0, null); }

    /** The thread count to use: {@code threads}, or the number of available cores when 0. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
