package org.neurite.backend.cpu;

import org.neurite.backend.Backend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * A tensor of the CPU backend: a heap {@code float[]} in the public row-major layout of its
 * {@link Shape} (no padding, no blocked layout), owned by the {@link CpuBackend} that allocated
 * it. Kernels work on {@link #data} directly; closing is a no-op because the garbage collector
 * frees the array.
 */
final class CpuTensor implements Tensor {
    final float[] data;
    private final Shape shape;
    private final CpuBackend owner;

    CpuTensor(CpuBackend owner, Shape shape) {
        this.owner = owner;
        this.shape = shape;
        this.data = new float[shape.size()];
    }

    @Override public Shape shape() { return shape; }

    @Override public int size() { return data.length; }

    @Override public Backend backend() { return owner; }

    @Override public String toString() { return "CpuTensor" + shape; }
}
