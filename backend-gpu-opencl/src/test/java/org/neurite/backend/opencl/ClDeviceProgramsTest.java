package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.DevicePrograms;
import org.neurite.backend.DevicePrograms.DeviceKernel;
import org.neurite.backend.DevicePrograms.DeviceProgram;
import org.neurite.backend.Slice;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/** A plugin's OpenCL C runs on the backend's queue, between its own ops, with checked launches. */
class ClDeviceProgramsTest {
    private static final String SOURCE = """
            __kernel void scale_shift(__global const float* x, __global float* y, const float a, const int n) {
                int i = get_global_id(0);
                if (i >= n) return;
                y[i] = a * x[i] + (float) i;
            }
            """;

    @Test void aPluginKernelRunsBetweenTheBackendsOwnOps() {
        Backend backend = CheckedBackend.wrap(OpenClTests.backend());
        DevicePrograms programs = backend.extension(DevicePrograms.class).orElseThrow();
        assertEquals("OpenCL C 1.2", programs.language());
        DeviceProgram program = programs.compile("test/scale_shift.cl", SOURCE);
        DevicePrograms raw = OpenClTests.backend().extension(DevicePrograms.class).orElseThrow();
        assertSame(raw.compile("test/scale_shift.cl", SOURCE), raw.compile("again", SOURCE), "one build per source and backend");
        DeviceKernel kernel = program.kernel("scale_shift");
        Tensor x = backend.allocate(Shape.of(5)), y = backend.allocate(Shape.of(5));
        backend.upload(new float[] {1, 2, 3, 4, 5}, x);
        backend.fill(y, -1f);
        kernel.launch(5, x, y, 2f, 5);
        backend.affine(Slice.of(y), 1f, 0.5f, Slice.of(y));   // queued after the kernel
        assertArrayEquals(new float[] {2.5f, 5.5f, 8.5f, 11.5f, 14.5f}, backend.download(y));
        x.close();
        y.close();
    }

    @Test void compileErrorsCarryTheCompilerLogAndLaunchesAreChecked() {
        Backend backend = CheckedBackend.wrap(OpenClTests.backend());
        DevicePrograms programs = backend.extension(DevicePrograms.class).orElseThrow();
        IllegalArgumentException broken = assertThrows(IllegalArgumentException.class,
                () -> programs.compile("test/broken.cl", "__kernel void k(__global float* y) { y[0] = undeclared; }"));
        assertTrue(broken.getMessage().startsWith("device program test/broken.cl does not compile"), broken.getMessage());
        assertTrue(broken.getMessage().contains("undeclared"), broken.getMessage());

        DeviceProgram program = programs.compile("test/scale_shift.cl", SOURCE);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> program.kernel("missing")).getMessage()
                .startsWith("device program test/scale_shift.cl has no kernel 'missing'"));
        DeviceKernel kernel = program.kernel("scale_shift");
        Tensor y = backend.allocate(Shape.of(2));
        IllegalArgumentException badArg = assertThrows(IllegalArgumentException.class, () -> kernel.launch(2, y, y, 2.0, 2));
        assertEquals("scale_shift argument 2 must be a tensor of this backend or an Integer, Long or Float, got Double", badArg.getMessage());
        y.close();
    }

    /**
     * What the backend's own launch refuses, on the raw backend: a value of no argument kind, and a
     * launch given fewer or more arguments than the kernel takes (an argument left from the
     * previous launch would otherwise be used); a refused launch leaves the next one unharmed.
     */
    @Test void theLaunchRefusesAnUnsupportedValueAndTheWrongNumberOfArguments() {
        ClBackend raw = OpenClTests.backend();
        DeviceKernel kernel = raw.extension(DevicePrograms.class).orElseThrow().compile("test/scale_shift.cl", SOURCE).kernel("scale_shift");
        Tensor x = raw.allocate(Shape.of(3)), y = raw.allocate(Shape.of(3));
        raw.upload(new float[] {1, 2, 3}, x);
        assertEquals("kernel test/scale_shift.cl:scale_shift argument 2: unsupported Double",
                assertThrows(IllegalArgumentException.class, () -> kernel.launch(3, x, y, 2.0, 3)).getMessage());
        assertEquals("kernel test/scale_shift.cl:scale_shift takes 4 arguments, 3 given",
                assertThrows(IllegalArgumentException.class, () -> kernel.launch(3, x, y, 2f)).getMessage());
        assertEquals("kernel test/scale_shift.cl:scale_shift argument 4: the kernel takes 4",
                assertThrows(IllegalArgumentException.class, () -> kernel.launch(3, x, y, 2f, 3, 3)).getMessage());
        kernel.launch(3, x, y, 2f, 3);
        assertArrayEquals(new float[] {2f, 5f, 8f}, raw.download(y));
        x.close();
        y.close();
    }
}
