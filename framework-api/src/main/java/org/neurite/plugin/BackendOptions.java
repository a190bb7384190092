package org.neurite.plugin;

/**
 * Deployment settings a backend is created with.
 *
 * @param threads worker threads; 0 means one per available core
 * @param device device selector (index, type or name substring); null for the default
 */
public record BackendOptions(int threads, String device) {
    public static BackendOptions defaults() { return new BackendOptions(0, null); }

    /** The thread count to use: {@code threads}, or the number of available cores when 0. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
