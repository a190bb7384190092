package org.neurite.plugins.shape;

import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/**
 * A per-sample shape seen around one axis as [before, length, after], the view {@code concat} and
 * {@code split} copy blocks in: with the batch in front, a tensor is {@code N * before} rows of
 * {@code length * after} contiguous floats. The axis counts per-sample dimensions (0 is the
 * channel axis of [C, H, W]); a negative axis counts from the end, as in PyTorch.
 */
record AxisView(int axis, int before, int length, int after) {
    /** The view of {@code shape} around {@code axis}, or a ShapeException when the axis does not exist. */
    static AxisView of(Shape shape, int axis) {
        int rank = shape.rank();
        if (axis < -rank || axis >= rank) {
            throw new ShapeException("axis " + axis + " does not exist in " + shape
                    + (rank == 0 ? "" : ", which has axes 0.." + (rank - 1) + " (or -" + rank + "..-1)"));
        }
        int a = axis < 0 ? axis + rank : axis;
        int before = 1;
        for (int d = 0; d < a; d++) before *= shape.dim(d);
        return new AxisView(a, before, shape.dim(a), shape.sizeFrom(a + 1));
    }

    /** Floats in one row: the whole axis with everything after it. */
    int rowLength() { return length * after; }
}
