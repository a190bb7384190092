package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.jocl.CL;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * Behaviour particular to the OpenCL backend: the CounterRandom port bit for bit, validation of
 * what only the data can tell (embedding indices, labels, argmax) that fails before anything is
 * written, foreign and closed tensors, the out-of-memory message, and discovery through the plugin
 * mechanism. Messages are asserted on the backend as the runtime hands it out, wrapped in a
 * {@link CheckedBackend}; the data checks are the OpenCL backend's own, on the device.
 */
class ClBackendTest {
    @Test void counterRandomOnTheDeviceIsTheJavaFunctionBitForBit() {
        ClBackend cl = OpenClTests.backend();
        Tensor out = cl.allocate(Shape.of(4096));
        for (long seed : new long[] {0L, 42L, -1L, 0x9E3779B97F4A7C15L, Long.MIN_VALUE}) {
            for (long first : new long[] {0L, 1L << 33, Long.MAX_VALUE - 5000}) {
                cl.counterUniform(seed, first, out);
                float[] device = cl.download(out);
                for (int i = 0; i < device.length; i++)
                    assertEquals(CounterRandom.uniform(seed, first + i), device[i], 0f, "seed " + seed + " index " + (first + i));
            }
        }
        out.close();
    }

    /**
     * A bad index is refused with the CPU's message and nothing is written; the host hears of it
     * at its next wait (here the synchronize), not at the call, which only enqueues the check.
     */
    @Test void aBadEmbeddingIndexFailsBeforeAnythingIsWritten() {
        Backend cl = CheckedBackend.wrap(OpenClTests.backend());
        Tensor table = cl.allocate(Shape.of(4, 3)), indices = cl.allocate(Shape.of(3)), out = cl.allocate(Shape.of(3, 3));
        cl.fill(out, 7f);
        cl.upload(new float[] {1, 4, 2}, indices);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            cl.gatherRows(table, indices, out, 3, 3);
            cl.synchronize();
        });
        assertEquals("index 4.0 of row 1 is not a row of the table [0, 4)", e.getMessage());
        assertArrayEquals(new float[] {7, 7, 7, 7, 7, 7, 7, 7, 7}, cl.download(out));
        cl.upload(new float[] {1, 2.5f, 2}, indices);
        assertEquals("index 2.5 of row 1 is not a row of the table [0, 4)", assertThrows(IllegalArgumentException.class, () -> {
            cl.scatterAddRows(out, indices, table, 3, 3);
            cl.synchronize();
        }).getMessage());
        assertArrayEquals(new float[12], cl.download(table), "dTable untouched");
    }

    /**
     * Refusals are reported at the next host wait, once and in the order the calls were made: a
     * bad gather then a bad scatter report the gather; the wait after that has nothing to report.
     * No op waits for a check: the calls count no synchronisation.
     */
    @Test void aRefusalComesAtTheNextWaitOnceAndFirstCallFirst() {
        Backend cl = CheckedBackend.wrap(OpenClTests.backend());
        Tensor table = cl.allocate(Shape.of(4, 3)), indices = cl.allocate(Shape.of(2)), out = cl.allocate(Shape.of(2, 3));
        Tensor badForGather = cl.allocate(Shape.of(2)), badForScatter = cl.allocate(Shape.of(2));
        cl.upload(new float[] {3, 0}, indices);
        cl.upload(new float[] {0, -2}, badForGather);
        cl.upload(new float[] {5, 0}, badForScatter);
        cl.fill(out, 1f);
        cl.synchronize();
        long syncs = cl.counters().orElseThrow().syncs();
        cl.gatherRows(table, badForGather, out, 2, 3);
        cl.scatterAddRows(out, indices, table, 2, 3);
        cl.scatterAddRows(out, badForScatter, table, 2, 3);
        assertEquals(syncs, cl.counters().orElseThrow().syncs(), "checking indices makes the host wait for nothing");
        assertEquals("index -2.0 of row 1 is not a row of the table [0, 4)",
                assertThrows(IllegalArgumentException.class, () -> cl.download(out)).getMessage());
        // The gather wrote nothing (out still ones), the good scatter added them to rows 3 and 0, the bad one nothing.
        assertArrayEquals(new float[] {1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1}, cl.download(table), "reported once: this read succeeds");
    }

    /**
     * A convolution's bias is added in the store of its GEMM (gemm_store.cl), not by a broadcast
     * launch after it: the forward pass with a bias launches no more kernels than without one, and
     * its output is bit for bit the unfused one (the product, then the broadcast add), for an
     * im2col convolution and a grouped pointwise one (whose second group's bias starts mid-vector).
     */
    @Test void aConvolutionsBiasIsAddedInItsGemmWithTheUnfusedResult() {
        ClBackend raw = OpenClTests.backend();
        Backend cl = CheckedBackend.wrap(raw);
        Conv2dGeometry[] geometries = {new Conv2dGeometry(2, 3, 9, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1),
                new Conv2dGeometry(1, 4, 6, 5, 4, 1, 1, 1, 1, 0, 0, 1, 1, 2)};
        SplittableRandom random = new SplittableRandom(17);
        for (Conv2dGeometry g : geometries) {
            Tensor x = cl.allocate(Shape.of(g.batch(), g.inChannels(), g.height(), g.width()));
            Tensor w = cl.allocate(Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW()));
            Tensor bias = cl.allocate(Shape.of(g.outChannels()));
            Shape ys = Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth());
            Tensor fused = cl.allocate(ys), unfused = cl.allocate(ys);
            for (Tensor t : List.of(x, w, bias)) {
                float[] v = new float[t.shape().size()];
                for (int i = 0; i < v.length; i++) v[i] = (float) random.nextDouble(-1, 1);
                cl.upload(v, t);
            }
            long before = raw.counters().orElseThrow().launches();
            cl.conv2dForward(g, x, w, null, unfused);
            long withoutBias = raw.counters().orElseThrow().launches() - before;
            before = raw.counters().orElseThrow().launches();
            cl.conv2dForward(g, x, w, bias, fused);
            assertEquals(withoutBias, raw.counters().orElseThrow().launches() - before, g + ": launches with a bias");
            cl.channelBroadcast(BinaryOp.ADD, unfused, bias, unfused, g.batch(), g.outChannels(), g.outHeight() * g.outWidth());
            assertArrayEquals(cl.download(unfused), cl.download(fused), g.toString());
        }
    }

    /**
     * A corrupt argmax (NaN, a fraction, outside the plane, outside the output's window) is refused
     * with the CPU backend's message, naming the lowest bad output, before dx is written; the
     * gather would otherwise skip it without a word.
     */
    @Test void aCorruptArgmaxIsRefusedAsOnTheCpuBeforeAnythingIsWritten() {
        Backend cl = CheckedBackend.wrap(OpenClTests.backend());
        // Two 4x4 planes, 2x2 windows with stride 2, and one with padding and overlapping windows.
        Pool2dGeometry[] geometries = {new Pool2dGeometry(2, 1, 4, 4, 2, 2, 2, 2, 0, 0, false, false),
                new Pool2dGeometry(1, 2, 5, 4, 3, 3, 1, 2, 1, 1, false, false)};
        try (Backend cpu = CheckedBackend.wrap(new CpuBackend(1))) {
            for (Pool2dGeometry g : geometries) {
                int in = g.batch() * g.channels() * g.height() * g.width(), out = g.batch() * g.channels() * g.outHeight() * g.outWidth();
                float[] x = new float[in], dy = new float[out];
                for (int i = 0; i < in; i++) x[i] = (i * 7919 % 31) - 15;
                for (int i = 0; i < out; i++) dy[i] = i + 1;
                Tensor cx = cpu.allocate(Shape.of(in)), cy = cpu.allocate(Shape.of(out)), cArg = cpu.allocate(Shape.of(out));
                cpu.upload(x, cx);
                cpu.maxPool2dForward(g, cx, cy, cArg);
                float[] valid = cpu.download(cArg);
                Tensor dyCl = cl.allocate(Shape.of(out)), dxCl = cl.allocate(Shape.of(in)), argCl = cl.allocate(Shape.of(out));
                Tensor dyCpu = cpu.allocate(Shape.of(out)), dxCpu = cpu.allocate(Shape.of(in));
                cl.upload(dy, dyCl);
                cpu.upload(dy, dyCpu);
                for (int at : new int[] {0, out / 2, out - 1}) {
                    for (float bad : new float[] {Float.NaN, 2.5f, -1f, in, 1e10f, sameRowOutsideWindow(g, at, valid[at]), valid[at] + g.width() * g.kernelH()}) {
                        float[] corrupt = valid.clone();
                        corrupt[at] = bad;
                        if (at + 1 < out) corrupt[at + 1] = -3f; // a later bad entry: the lowest output is named
                        cpu.upload(corrupt, cArg);
                        cl.upload(corrupt, argCl);
                        cl.fill(dxCl, 7f);
                        String expected = assertThrows(IllegalArgumentException.class,
                                () -> cpu.maxPool2dBackward(g, dyCpu, cArg, dxCpu)).getMessage();
                        String got = assertThrows(IllegalArgumentException.class, () -> {
                            cl.maxPool2dBackward(g, dyCl, argCl, dxCl);
                            cl.synchronize();
                        }, g + " output " + at + " argmax " + bad).getMessage();
                        assertEquals(expected, got);
                        assertTrue(got.startsWith("maxPool2dBackward: argmax " + bad + " at output " + at + " is not an input position"), got);
                        float[] untouched = new float[in];
                        Arrays.fill(untouched, 7f);
                        assertArrayEquals(untouched, cl.download(dxCl), "dx untouched");
                    }
                }
                cl.upload(valid, argCl);
                cpu.upload(valid, cArg);
                cl.maxPool2dBackward(g, dyCl, argCl, dxCl);
                cpu.maxPool2dBackward(g, dyCpu, cArg, dxCpu);
                assertArrayEquals(cpu.download(dxCpu), cl.download(dxCl), "a valid argmax still works");
                for (Tensor t : List.of(dyCl, dxCl, argCl)) t.close();
            }
        }
    }

    /** The input position in argmax's row whose column lies just right (else just left) of output {@code at}'s window. */
    private static float sameRowOutsideWindow(Pool2dGeometry g, int at, float argmax) {
        int ow = at % g.outWidth(), start = ow * g.strideW() - g.padW(), row = (int) argmax / g.width();
        int column = start + g.kernelW() < g.width() ? start + g.kernelW() : start - 1;
        assertTrue(column >= 0, "the test geometry leaves a column outside each window");
        return row * g.width() + column;
    }

    @Test void aBadLabelNamesItsRow() {
        Backend cl = CheckedBackend.wrap(OpenClTests.backend());
        Tensor logits = cl.allocate(Shape.of(3, 4)), labels = cl.allocate(Shape.of(3)), d = cl.allocate(Shape.of(3, 4));
        cl.upload(new float[] {0, 3, -1}, labels);
        assertEquals("label -1.0 of row 2 is not a class index in [0, 4)",
                assertThrows(IllegalArgumentException.class, () -> cl.softmaxCrossEntropy(logits, labels, d, 3, 4, 1f)).getMessage());
        cl.upload(new float[] {0, 3, 1}, labels);
        // All logits equal: each row's loss is log(4).
        assertEquals(3 * Math.log(4), cl.softmaxCrossEntropy(logits, labels, d, 3, 4, 1f), 1e-6);
    }

    @Test void tensorsOfOtherBackendsAndClosedTensorsAreRefused() {
        Backend cl = CheckedBackend.wrap(OpenClTests.backend());
        try (CpuBackend cpu = new CpuBackend(1)) {
            Tensor foreign = cpu.allocate(Shape.of(2, 2)), mine = cl.allocate(Shape.of(2, 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> cl.unary(UnaryOp.RELU, foreign, mine));
            assertEquals("x [2, 2] belongs to backend 'cpu' (" + cpu.description() + "), not to backend 'opencl' (" + cl.description() + ")",
                    e.getMessage());
            mine.close();
            mine.close(); // closing twice is harmless
            assertEquals("t [2, 2] has been closed", assertThrows(IllegalArgumentException.class, () -> cl.fill(mine, 1f)).getMessage());
        }
    }

    @Test void shiftedOverlapsAreRefusedAsOnTheCpu() {
        Backend cl = CheckedBackend.wrap(OpenClTests.backend());
        Tensor x = cl.allocate(Shape.of(10));
        assertEquals("unary TANH: y [2, 7) overlaps x [0, 5) of the same tensor; use the same range or disjoint ones",
                assertThrows(IllegalArgumentException.class, () -> cl.unary(UnaryOp.TANH, Slice.of(x, 0, 5), Slice.of(x, 2, 5))).getMessage());
    }

    @Test void aTensorLargerThanTheDeviceAllowsIsAnOutOfMemoryErrorWithTheAmounts() {
        ClBackend raw = OpenClTests.backend();
        Backend cl = CheckedBackend.wrap(raw);
        Shape huge = Shape.of(Integer.MAX_VALUE);
        assumeTrue(4L * Integer.MAX_VALUE > ClDevices.deviceLong(OpenClTests.device().device(), CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                "this device could allocate 8 GiB in one buffer");
        OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> cl.allocate(huge));
        assertTrue(e.getMessage().startsWith("OpenCL device out of memory: a tensor [" + Integer.MAX_VALUE + "] of 8192.0 MiB ("
                + 4L * Integer.MAX_VALUE + " bytes) on " + raw.device().name() + " (larger than the device's largest buffer ("), e.getMessage());
    }

    @Test void dataStaysOnTheDeviceBetweenOps() {
        ClBackend cl = OpenClTests.backend();
        Tensor x = cl.allocate(Shape.of(4)), y = cl.allocate(Shape.of(4));
        cl.upload(new float[] {-1, 2, -3, 4}, x);
        cl.unary(UnaryOp.RELU, x, y);
        cl.axpby(2f, y, 1f, x);       // x = 2*relu(x) + x
        cl.unary(UnaryOp.SQUARE, x, x);
        assertArrayEquals(new float[] {1, 36, 9, 144}, cl.download(x));
        assertEquals(1 + 36 * 36 + 81 + 144 * 144, cl.sumOfSquares(x), 0);
    }

    @Test void thePluginRegistersTheOpenclBackend() {
        OpenClTests.backend(); // fails with the reason when OpenCL is missing
        NeuriteRuntime runtime = NeuriteRuntime.discover();
        BackendProvider provider = runtime.backends().get("opencl");
        assertInstanceOf(ClBackendProvider.class, provider);
        assertNull(provider.availability());
        List<ClDeviceInfo> devices = ((ClBackendProvider) provider).devices();
        assertTrue(!devices.isEmpty() && devices.get(0).index() == 0 && devices.get(0).computeUnits() > 0, devices.toString());
        try (Backend backend = runtime.createBackend("opencl", new BackendOptions(0, "0"), List.of(), w -> {})) {
            assertEquals("opencl", backend.name());
            assertTrue(backend.description().startsWith("OpenCL " + devices.get(0).name()), backend.description());
        }
    }
}
