package org.neurite.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape. Image activations are NCHW, sequences [batch, time, features],
 * dense weights [out, in], conv weights [out, in/groups, kh, kw] (PyTorch's public layout).
 *
 * <p>Graph values carry shapes <em>without</em> the batch dimension ({@code [1, 28, 28]}); a
 * compiled model prepends the batch with {@link #withBatch(int)}.
 */
public final class Shape {
    private final int[] dims;

    private Shape(int[] dims) {
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
        }
        this.dims = dims;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public int rank() { return dims.length; }

    public int dim(int axis) {
        return dims[axis < 0 ? dims.length + axis : axis];
    }

    public int[] dims() { return dims.clone(); }

    /** Number of elements; throws if it does not fit an int (no tensor here may exceed 2^31-1 floats). */
    public int size() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE) throw new ArithmeticException("shape " + this + " has more than 2^31-1 elements");
        return (int) n;
    }

    public long elementCount() {
        long n = 1;
        for (int d : dims) n *= d;
        return n;
    }

    /** This shape with a leading batch dimension: {@code [c,h,w].withBatch(n) == [n,c,h,w]}. */
    public Shape withBatch(int batch) {
        int[] out = new int[dims.length + 1];
        out[0] = batch;
        System.arraycopy(dims, 0, out, 1, dims.length);
        return new Shape(out);
    }

    /** This shape without its leading dimension. */
    public Shape dropFirst() {
        if (dims.length == 0) throw new IllegalStateException("scalar shape has no leading dimension");
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    /** Product of the dimensions from {@code from} (inclusive) to the end. */
    public int sizeFrom(int from) {
        int n = 1;
        for (int i = from; i < dims.length; i++) n *= dims[i];
        return n;
    }

    @Override public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    /** {@code [1, 28, 28]}, the same notation the language uses. */
    @Override public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) sb.append(", ");
            sb.append(dims[i]);
        }
        return sb.append(']').toString();
    }
}
