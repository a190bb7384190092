package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.DevicePrograms;
import org.neurite.backend.DevicePrograms.DeviceKernel;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The release path of the OpenCL backend: buffers given up while queued commands may still use
 * them are released only after a wait has passed those commands (never under a pending command,
 * and all before the context), and a closed backend refuses every op with a clear message instead
 * of handing released queue, kernel, buffer or context handles to the driver (a use-after-free
 * there crashes the process or corrupts a later backend's objects). Each test opens and closes a
 * backend of its own.
 */
class ClBackendCloseTest {
    private static ClBackend open() {
        OpenClTests.backend(); // skipped or failed with the reason where OpenCL is missing
        return new ClBackend(OpenClTests.device(), ClProgramCache.standard());
    }

    @Test void aTensorClosedUnderPendingWorkIsReleasedAtTheNextWait() {
        try (ClBackend raw = open()) {
            Backend cl = CheckedBackend.wrap(raw);
            ClQueue queue = raw.commandQueue();
            Tensor x = cl.allocate(Shape.of(1000)), y = cl.allocate(Shape.of(1000));
            cl.fill(x, -2f);
            cl.unary(UnaryOp.RELU, Slice.of(x), Slice.of(y));
            long available = cl.memoryAvailable();
            x.close();                       // the relu may still be reading it
            assertEquals(available + 4000, cl.memoryAvailable(), "no longer counted against the limit");
            assertEquals(1, queue.retiredBuffers(), "kept until the queue has passed the relu");
            assertArrayEquals(new float[1000], cl.download(y), "the relu read x intact");
            assertEquals(0, queue.retiredBuffers(), "released by the wait of the download");
            y.close();
        }
    }

    @Test void aGrownWorkspaceReleasesItsOldBufferAfterTheCommandsUsingIt() {
        try (ClBackend raw = open()) {
            Backend cl = CheckedBackend.wrap(raw);
            ClQueue queue = raw.commandQueue();
            float[] values = new float[2 * 3 * 9 * 9];
            for (int i = 0; i < values.length; i++) values[i] = i % 5 - 2;
            float[] expected = null;
            // Growing batches make the column workspace grow while earlier convolutions are queued on it.
            for (int batch = 1; batch <= 2; batch++) {
                Conv2dGeometry g = new Conv2dGeometry(batch, 3, 9, 9, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1);
                Tensor x = cl.allocate(Shape.of(batch, 3, 9, 9)), w = cl.allocate(Shape.of(2, 3, 3, 3));
                Tensor y = cl.allocate(Shape.of(batch, 2, 9, 9));
                cl.upload(values, 0, Slice.of(x));
                cl.fill(w, 0.5f);
                cl.conv2dForward(g, x, w, null, y);
                float[] out = cl.download(y);
                if (expected == null) expected = out;
                else assertArrayEquals(expected, Arrays.copyOf(out, expected.length), "sample 0 alike at batch " + batch);
                for (Tensor t : List.of(x, w, y)) t.close();
            }
            assertEquals(3, queue.retiredBuffers(), "the first batch's tensors and the outgrown workspace were released by the second"
                    + " download; only the last three tensors wait");
        }
    }

    @Test void aClosedBackendRefusesOpsInsteadOfUsingReleasedObjects() {
        ClBackend raw = open();
        Backend cl = CheckedBackend.wrap(raw);
        DeviceKernel kernel = raw.extension(DevicePrograms.class).orElseThrow()
                .compile("test/zero.cl", "__kernel void zero(__global float* y) { y[get_global_id(0)] = 0.0f; }").kernel("zero");
        Tensor kept = cl.allocate(Shape.of(4));
        Conv2dGeometry g = new Conv2dGeometry(1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0, 1, 1, 1);
        Tensor x = cl.allocate(Shape.of(1, 1, 5, 5)), w = cl.allocate(Shape.of(1, 1, 3, 3)), y = cl.allocate(Shape.of(1, 1, 3, 3));
        cl.close();
        cl.close(); // twice is harmless
        assertEquals("the OpenCL backend is closed", assertThrows(IllegalStateException.class, cl::synchronize).getMessage());
        assertEquals("the OpenCL backend is closed", assertThrows(IllegalStateException.class, () -> cl.allocate(Shape.of(2))).getMessage());
        assertEquals("the OpenCL backend is closed", assertThrows(IllegalStateException.class, () -> kernel.launch(4, kept)).getMessage());
        assertEquals("the OpenCL backend is closed", assertThrows(IllegalStateException.class,
                () -> raw.extension(DevicePrograms.class).orElseThrow().compile("test/other.cl", "__kernel void k() {}")).getMessage());
        // The raw backend (no argument checks): the convolution would grow its workspace in the released context.
        assertEquals("the OpenCL backend is closed", assertThrows(IllegalStateException.class, () -> raw.conv2dForward(g, x, w, null, y)).getMessage());
        assertTrue(kept.isClosed(), "its tensors were released with it");
    }
}
