package org.neurite.tensor;

import org.neurite.backend.Backend;

/**
 * A float32 tensor whose storage belongs to a {@link Backend}. The elements are laid out
 * row-major in the public layout of {@link Shape}; a backend may keep any layout inside but
 * {@link Backend#upload}/{@link Backend#download} always speak the public one.
 *
 * <p>Tensors are created only by {@link Backend#allocate(Shape)} and are passed back to the same
 * backend's ops. A tensor is freed with {@link #close()} (a no-op for heap-backed storage).
 */
public interface Tensor extends AutoCloseable {
    Shape shape();

    /** Element count, {@code shape().size()}. */
    default int size() { return shape().size(); }

    Backend backend();

    /**
     * Whether {@link #close()} has released this tensor's storage; a closed tensor is refused by
     * every op. Heap-backed tensors are never closed (their close is a no-op).
     */
    default boolean isClosed() { return false; }

    @Override default void close() {}
}
