package org.neurite.plugin;

import org.neurite.backend.Backend;

/**
 * Creates a {@link Backend} for a deployment. Registered by name in a Guice
 * {@code MapBinder<String, BackendProvider>}; {@code nn backends} lists them with
 * {@link #availability()}.
 */
public interface BackendProvider {
    String name();

    /** Null when the backend can be created here; otherwise why not and how to fix it. */
    default String availability() { return null; }

    Backend create(BackendOptions options);
}
