package org.neurite.backend.opencl;

import org.jocl.Pointer;
import org.jocl.cl_mem;
import org.neurite.backend.Backend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * A tensor of the OpenCL backend: one device buffer ({@code cl_mem}) holding the floats in the
 * public row-major layout of its {@link Shape}, no padding. Data crosses to Java only through
 * {@link Backend#upload}/{@link Backend#download}. {@link #close()} releases the buffer now
 * (the backend releases whatever is still open when it closes); using a closed tensor fails.
 */
final class ClTensor implements Tensor {
    private final Backend owner;
    private final ClMemory memory;
    private final Shape shape;
    private final int size;
    private cl_mem mem;
    /** A pointer to {@link #mem}, the form clSetKernelArg takes, made once rather than at every launch. */
    private Pointer memPointer;

    ClTensor(Backend owner, ClMemory memory, Shape shape, cl_mem mem) {
        this.owner = owner;
        this.memory = memory;
        this.shape = shape;
        this.size = shape.size();
        this.mem = mem;
    }

    /**
     * The OpenCL tensor behind a tensor argument (null stays null). The backend's callers are
     * checked ({@code CheckedBackend}): every tensor that reaches an op is one of this backend's.
     */
    static ClTensor of(Tensor t) {
        return (ClTensor) t;
    }

    /** The device buffer; throws once the tensor is closed. */
    cl_mem mem() {
        cl_mem m = mem;
        if (m == null) throw new IllegalStateException("OpenCL tensor " + shape + " is closed");
        return m;
    }

    /** {@link #mem()} as a kernel argument's value; throws once the tensor is closed. */
    Pointer memPointer() {
        cl_mem m = mem();
        Pointer p = memPointer;
        if (p == null) memPointer = p = Pointer.to(m);
        return p;
    }

    /** Forgets the buffer and returns it for release (null when already closed). */
    synchronized cl_mem detach() {
        cl_mem m = mem;
        mem = null;
        return m;
    }

    @Override public Shape shape() { return shape; }

    @Override public int size() { return size; }

    @Override public Backend backend() { return owner; }

    @Override public boolean isClosed() { return mem == null; }

    @Override public void close() { memory.release(this); }

    @Override public String toString() { return "ClTensor" + shape; }
}
