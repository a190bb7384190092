package org.neurite.backend.opencl;

import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.clCreateBuffer;
import static org.jocl.CL.clCreateCommandQueue;
import static org.jocl.CL.clCreateContext;
import static org.jocl.CL.clCreateKernel;
import static org.jocl.CL.clEnqueueNDRangeKernel;
import static org.jocl.CL.clEnqueueReadBuffer;
import static org.jocl.CL.clReleaseCommandQueue;
import static org.jocl.CL.clReleaseContext;
import static org.jocl.CL.clReleaseKernel;
import static org.jocl.CL.clReleaseMemObject;
import static org.jocl.CL.clReleaseProgram;
import static org.jocl.CL.clSetKernelArg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The on-disk program cache, on a small program so each compile is quick: a first build compiles
 * and writes the device binary, a second build (a new cache over the same folder, as in a second
 * run) loads it without compiling and the loaded program computes correctly; other build options
 * are another entry; a damaged or truncated file is recompiled and replaced, never loaded; a
 * source that does not compile
 * fails with the compiler's log. And the backend itself: opening a second backend on the shared
 * device compiles nothing.
 */
class ClProgramCacheTest {
    private static final String SOURCE = """
            // out[i] = SCALE * x[i]
            __kernel void scale(__global float* x) { int i = get_global_id(0); x[i] = SCALE * x[i]; }
            """;

    @TempDir Path dir;
    private cl_context context;
    private cl_device_id device;
    private cl_command_queue queue;
    private String deviceKey;

    @BeforeEach void open() {
        ClDevices.Found found = OpenClTests.device();
        device = found.device();
        deviceKey = found.info().platform() + " / " + found.info().name() + " / " + found.info().openclVersion();
        context = clCreateContext(null, 1, new cl_device_id[] {device}, null, null, null);
        queue = clCreateCommandQueue(context, device, 0, null);
    }

    @AfterEach void close() {
        clReleaseCommandQueue(queue);
        clReleaseContext(context);
    }

    @Test void aSecondRunLoadsTheBinaryInsteadOfCompiling() throws IOException {
        ClProgramCache first = new ClProgramCache(dir);
        ClProgramCache.Built built = first.build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        assertFalse(built.fromCache());
        assertEquals(1, first.sourceBuilds());
        assertTrue(Files.size(built.file()) > 0, "binary written to " + built.file());
        assertArrayEquals(new float[] {2, 4, 6}, run(built, new float[] {1, 2, 3}));
        clReleaseProgram(built.program());

        ClProgramCache second = new ClProgramCache(dir);
        ClProgramCache.Built again = second.build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        assertTrue(again.fromCache());
        assertEquals(0, second.sourceBuilds(), "no compile on the second run");
        assertEquals(1, second.binaryLoads());
        assertEquals(built.file(), again.file());
        assertArrayEquals(new float[] {-2, 0, 10}, run(again, new float[] {-1, 0, 5}));
        clReleaseProgram(again.program());
    }

    @Test void otherOptionsAreAnotherEntry() {
        ClProgramCache cache = new ClProgramCache(dir);
        ClProgramCache.Built two = cache.build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        ClProgramCache.Built three = cache.build(context, device, deviceKey, SOURCE, "-DSCALE=3.0f");
        assertNotEquals(two.file(), three.file());
        assertEquals(2, cache.sourceBuilds());
        assertArrayEquals(new float[] {3, 6}, run(three, new float[] {1, 2}));
        clReleaseProgram(two.program());
        clReleaseProgram(three.program());
    }

    @Test void aDamagedBinaryIsCompiledAgainAndReplaced() throws IOException {
        ClProgramCache.Built built = new ClProgramCache(dir).build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        clReleaseProgram(built.program());
        Files.write(built.file(), new byte[] {1, 2, 3, 4});
        ClProgramCache cache = new ClProgramCache(dir);
        ClProgramCache.Built rebuilt = cache.build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        assertFalse(rebuilt.fromCache());
        assertEquals(1, cache.sourceBuilds());
        assertTrue(Files.size(rebuilt.file()) > 4, "replaced by a real binary");
        assertArrayEquals(new float[] {8}, run(rebuilt, new float[] {4}));
        clReleaseProgram(rebuilt.program());
    }

    /**
     * A cache file cut short (a crash or a full disk during a copy, a backup restored in part) is
     * never handed to the driver: PoCL's loader asserts on a truncated binary and aborts the JVM
     * (exit 134, on every later run too). It is compiled again and replaced.
     */
    @Test void aTruncatedBinaryIsCompiledAgainNotLoaded() throws IOException {
        ClProgramCache.Built built = new ClProgramCache(dir).build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        clReleaseProgram(built.program());
        byte[] whole = Files.readAllBytes(built.file());
        Files.write(built.file(), java.util.Arrays.copyOf(whole, whole.length / 2));
        ClProgramCache cache = new ClProgramCache(dir);
        ClProgramCache.Built rebuilt = cache.build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        assertFalse(rebuilt.fromCache());
        assertEquals(1, cache.sourceBuilds());
        byte[] replaced = Files.readAllBytes(rebuilt.file());
        assertTrue(replaced.length > whole.length / 2 && ClProgramCache.checkedBinary(replaced) != null,
                "replaced by a whole, checked binary");
        assertArrayEquals(new float[] {8}, run(rebuilt, new float[] {4}));
        clReleaseProgram(rebuilt.program());
    }

    /** One changed byte inside the binary is caught by the digest, not loaded. */
    @Test void aCacheFileIsCheckedAgainstItsDigest() throws IOException {
        ClProgramCache.Built built = new ClProgramCache(dir).build(context, device, deviceKey, SOURCE, "-DSCALE=2.0f");
        clReleaseProgram(built.program());
        byte[] whole = Files.readAllBytes(built.file());
        assertTrue(ClProgramCache.checkedBinary(whole) != null, "a file as written passes");
        byte[] flipped = whole.clone();
        flipped[flipped.length - 1] ^= 1;
        assertEquals(null, ClProgramCache.checkedBinary(flipped));
        assertEquals(null, ClProgramCache.checkedBinary(java.util.Arrays.copyOf(whole, whole.length - 1)));
        assertEquals(null, ClProgramCache.checkedBinary(java.util.Arrays.copyOfRange(whole, ClProgramCache.MAGIC.length + 32, whole.length)),
                "a bare binary (no header) is not loaded");
    }

    @Test void aBuildErrorShowsTheBuildLog() throws IOException {
        ClProgramCache cache = new ClProgramCache(dir);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cache.build(context, device, deviceKey,
                "__kernel void broken(__global float* x) { x[0] = undefined_thing; }", ""));
        assertTrue(e.getMessage().startsWith("OpenCL program build failed on " + deviceKey), e.getMessage());
        assertTrue(e.getMessage().contains("undefined_thing"), "the compiler's log names the error: " + e.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.toList(), "nothing cached");
        }
    }

    @Test void aSecondBackendOnTheDeviceLoadsItsKernelsFromTheCache() {
        OpenClTests.backend(); // built (or loaded) the program once already
        ClProgramCache cache = ClProgramCache.standard();
        try (ClBackend second = new ClBackend(OpenClTests.device(), cache)) {
            assertEquals(0, cache.sourceBuilds(), "kernels compiled again");
            assertEquals(1, cache.binaryLoads());
            assertTrue(second.kernelsFromCache());
            assertTrue(second.description().contains("kernels loaded from the cache"), second.description());
        }
    }

    /** Runs the program's kernel over {@code values} and reads them back. */
    private float[] run(ClProgramCache.Built built, float[] values) {
        cl_kernel kernel = clCreateKernel(built.program(), "scale", null);
        cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, (long) values.length * Sizeof.cl_float,
                Pointer.to(values), null);
        try {
            clSetKernelArg(kernel, 0, Sizeof.cl_mem, Pointer.to(buffer));
            clEnqueueNDRangeKernel(queue, kernel, 1, null, new long[] {values.length}, null, 0, null, null);
            float[] out = new float[values.length];
            clEnqueueReadBuffer(queue, buffer, true, 0, (long) out.length * Sizeof.cl_float, Pointer.to(out), 0, null, null);
            return out;
        } finally {
            clReleaseMemObject(buffer);
            clReleaseKernel(kernel);
        }
    }
}
