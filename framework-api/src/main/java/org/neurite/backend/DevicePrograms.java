package org.neurite.backend;

/**
 * An extension of backends that compile device code from source at run time: the OpenCL backend
 * offers it ({@code backend.extension(DevicePrograms.class)}), so a plugin can ship a device
 * kernel for its layer as a {@code .cl} resource next to its classes and launch it from a
 * {@code KernelOverride} for that backend. A program is compiled once per backend (and cached on
 * disk like the backend's own); the arguments of every launch are checked like any op's
 * ({@link CheckedBackend}).
 *
 * <p>The source language is {@link #language()}; for OpenCL it is OpenCL C 1.2, built with the
 * same options as the backend's own kernels. A kernel reads and writes whole tensors (global
 * float buffers in the public row-major layout) and takes int, long and float scalars; it must
 * not write outside the elements it is given (bound every work item by a size argument).
 */
public interface DevicePrograms {

    /** The source language programs are written in, e.g. {@code OpenCL C}. */
    String language();

    /**
     * Compiles {@code source} (or finds it compiled) under a name for messages and the cache.
     *
     * @throws IllegalArgumentException when the device compiler rejects the source, with its log
     */
    DeviceProgram compile(String name, String source);

    /** A compiled program: its kernels by name. */
    interface DeviceProgram {
        /**
         * The kernel {@code name} of this program.
         *
         * @throws IllegalArgumentException when the program has no such kernel
         */
        DeviceKernel kernel(String name);
    }

    /** One kernel, launched over a 1-D range of work items. */
    interface DeviceKernel {
        /**
         * Enqueues the kernel over {@code workItems} work items (get_global_id(0) in [0, workItems)),
         * with the kernel's arguments in order: a {@code Tensor} of this backend for a
         * {@code __global float*}, an {@code Integer}, {@code Long} or {@code Float} for a scalar.
         * Like every op it may run asynchronously.
         */
        void launch(long workItems, Object... args);
    }
}
