package org.neurite.testkit;

import org.neurite.backend.Backend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/** A tensor of the {@link ReferenceBackend}: a heap {@code float[]} in the public row-major layout. */
final class ReferenceTensor implements Tensor {
    final float[] data;
    private final Shape shape;
    private final ReferenceBackend owner;

    ReferenceTensor(ReferenceBackend owner, Shape shape) {
        this.owner = owner;
        this.shape = shape;
        this.data = new float[shape.size()];
    }

    @Override public Shape shape() { return shape; }

    @Override public int size() { return data.length; }

    @Override public Backend backend() { return owner; }

    @Override public String toString() { return "ReferenceTensor" + shape; }
}
