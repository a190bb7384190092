package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Slice;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The ops behind normalisation, recurrent and embedding layers, beyond what the PyTorch
 * fixtures show: hand-worked values, the in-place uses the contract allows, argument errors, and
 * bit-identical results for 1, 2, 3 and 5 threads on sizes that take the parallel paths.
 */
class CpuLayerOpsTest {
    private static CpuBackend cpu;
    private static Backend checked;

    @BeforeAll static void start() {
        cpu = new CpuBackend(3);
        checked = CheckedBackend.wrap(cpu);
    }

    @AfterAll static void stop() { cpu.close(); }

    private static Tensor tensor(Backend backend, float[] values, int... dims) {
        Tensor t = backend.allocate(Shape.of(dims));
        backend.upload(values, t);
        return t;
    }

    @Test
    void batchNormTrainingStepByHand() {
        // One channel, x viewed as [outer=2, channels=1, inner=2] = {1, 2, 3, 4}:
        // mean 2.5, biased var 1.25, unbiased 5/3; eps 0 gives invStd 1/sqrt(1.25).
        Tensor x = tensor(cpu, new float[] {1, 2, 3, 4}, 2, 1, 2), y = cpu.allocate(x.shape());
        Tensor gamma = tensor(cpu, new float[] {2}, 1), beta = tensor(cpu, new float[] {1}, 1);
        Tensor runningMean = tensor(cpu, new float[] {0}, 1), runningVar = tensor(cpu, new float[] {1}, 1);
        Tensor mean = cpu.allocate(Shape.of(1)), invStd = cpu.allocate(Shape.of(1));
        cpu.batchNormForward(x, y, gamma, beta, runningMean, runningVar, mean, invStd, 2, 1, 2, 0f, 0.1f, true);
        double s = 1 / Math.sqrt(1.25);
        assertArrayEquals(new float[] {(float) (1 - 3 * s), (float) (1 - s), (float) (1 + s), (float) (1 + 3 * s)}, cpu.download(y), 1e-6f);
        assertEquals(2.5f, cpu.download(mean)[0]);
        assertEquals((float) s, cpu.download(invStd)[0], 1e-7f);
        assertEquals(0.25f, cpu.download(runningMean)[0], 1e-7f); // 0.9 * 0 + 0.1 * 2.5
        assertEquals(0.9f + 0.1f * 5f / 3f, cpu.download(runningVar)[0], 1e-6f); // running_var takes the unbiased variance

        // dy = 1 everywhere: the mean absorbs it, so dx = 0, dbeta = 4, dgamma = sum(xhat) = 0.
        Tensor dy = tensor(cpu, new float[] {1, 1, 1, 1}, 2, 1, 2);
        Tensor dgamma = cpu.allocate(Shape.of(1)), dbeta = cpu.allocate(Shape.of(1));
        cpu.batchNormBackward(x, dy, gamma, mean, invStd, dy, dgamma, dbeta, 2, 1, 2); // dx written over dy
        assertArrayEquals(new float[] {0, 0, 0, 0}, cpu.download(dy), 1e-6f);
        assertEquals(4f, cpu.download(dbeta)[0]);
        assertEquals(0f, cpu.download(dgamma)[0], 1e-6f);
    }

    @Test
    void batchNormBackwardInPlaceMatchesSeparateOutputs() {
        Random rnd = new Random(4);
        float[] x = CpuGemmTest.random(rnd, 3 * 4 * 5), dy = CpuGemmTest.random(rnd, 60), g = CpuGemmTest.random(rnd, 4);
        Tensor tx = tensor(cpu, x, 3, 4, 5), tdy = tensor(cpu, dy, 3, 4, 5), gamma = tensor(cpu, g, 4), beta = cpu.allocate(Shape.of(4));
        Tensor rm = cpu.allocate(Shape.of(4)), rv = cpu.allocate(Shape.of(4)), mean = cpu.allocate(Shape.of(4)), inv = cpu.allocate(Shape.of(4));
        cpu.batchNormForward(tx, cpu.allocate(tx.shape()), gamma, beta, rm, rv, mean, inv, 3, 4, 5, 1e-5f, 0.1f, true);
        Tensor dx = cpu.allocate(tx.shape());
        cpu.batchNormBackward(tx, tdy, gamma, mean, inv, dx, null, null, 3, 4, 5);
        cpu.batchNormBackward(tx, tdy, gamma, mean, inv, tdy, null, null, 3, 4, 5);
        assertArrayEquals(cpu.download(dx), cpu.download(tdy));
    }

    @Test
    void batchNormMatchesATwoPassDoubleReferenceFarFromZero() {
        // [outer=7, channels=3, inner=13]: rows of three whole groups of four and a tail of one; the
        // channels' means lie 0, 300 and -3000 standard deviations from zero, where a one-pass
        // variance about zero (sum x^2 - m mean^2) in float would lose every digit.
        int outer = 7, channels = 3, inner = 13, m = outer * inner;
        double[] offset = {0.5, 300, -3000};
        Random rnd = new Random(11);
        float[] x = new float[outer * channels * inner], dy = new float[x.length], g = {1.5f, -0.5f, 2f}, b = {0.25f, 0f, -1f};
        for (int o = 0; o < outer; o++) {
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < inner; i++) {
                    int at = (o * channels + c) * inner + i;
                    x[at] = (float) (offset[c] + rnd.nextGaussian());
                    dy[at] = (float) rnd.nextGaussian();
                }
            }
        }
        Tensor tx = tensor(cpu, x, outer, channels, inner), y = cpu.allocate(tx.shape()), tdy = tensor(cpu, dy, outer, channels, inner);
        Tensor gamma = tensor(cpu, g, channels), beta = tensor(cpu, b, channels), rm = cpu.allocate(Shape.of(channels));
        Tensor rv = cpu.allocate(Shape.of(channels)), mean = cpu.allocate(Shape.of(channels)), inv = cpu.allocate(Shape.of(channels));
        Tensor dx = cpu.allocate(tx.shape()), dgamma = cpu.allocate(Shape.of(channels)), dbeta = cpu.allocate(Shape.of(channels));
        float eps = 1e-5f;
        cpu.batchNormForward(tx, y, gamma, beta, rm, rv, mean, inv, outer, channels, inner, eps, 1f, true);
        cpu.batchNormBackward(tx, tdy, gamma, mean, inv, dx, dgamma, dbeta, outer, channels, inner);
        float[] ys = cpu.download(y), dxs = cpu.download(dx);
        for (int c = 0; c < channels; c++) {
            double sum = 0, squares = 0, sumDy = 0, sumDyXhat = 0;
            for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) sum += x[(o * channels + c) * inner + i];
            double mu = sum / m;
            for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) squares += Math.pow(x[(o * channels + c) * inner + i] - mu, 2);
            double var = squares / m, invStd = 1 / Math.sqrt(var + eps);
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int at = (o * channels + c) * inner + i;
                    sumDy += dy[at];
                    sumDyXhat += dy[at] * (x[at] - mu) * invStd;
                }
            }
            assertEquals(mu, cpu.download(mean)[c], Math.ulp((float) mu), "mean of channel " + c);
            assertEquals(invStd, cpu.download(inv)[c], 1e-5 * invStd, "1/std of channel " + c);
            assertEquals(var * m / (m - 1), cpu.download(rv)[c], 1e-5 * var, "running variance of channel " + c); // momentum 1
            assertEquals(sumDy, cpu.download(dbeta)[c], 1e-4, "dbeta of channel " + c);
            assertEquals(sumDyXhat, cpu.download(dgamma)[c], 1e-3, "dgamma of channel " + c);
            // x - mean is taken in float from the float mean (as PyTorch saves it): up to half an ulp of the mean.
            double shifted = Math.abs(g[c]) * invStd * Math.ulp((float) mu);
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    int at = (o * channels + c) * inner + i;
                    double xhat = (x[at] - mu) * invStd;
                    assertEquals(g[c] * xhat + b[c], ys[at], 1e-4 + shifted, "y at " + at);
                    assertEquals(g[c] * invStd * (dy[at] - sumDy / m - xhat * sumDyXhat / m), dxs[at], 1e-4 + shifted, "dx at " + at);
                }
            }
        }
    }

    @Test
    void batchNormNamesBadArguments() {
        Tensor x = cpu.allocate(Shape.of(1, 3)), y = cpu.allocate(Shape.of(1, 3)), c3 = cpu.allocate(Shape.of(3)), c2 = cpu.allocate(Shape.of(2));
        IllegalArgumentException single = assertThrows(IllegalArgumentException.class,
                () -> checked.batchNormForward(x, y, c3, c3, c3, c3, c3, c3, 1, 3, 1, 1e-5f, 0.1f, true));
        assertEquals("batch norm training needs more than one value per channel, got 1 x 1 (outer x inner)", single.getMessage());
        IllegalArgumentException gamma = assertThrows(IllegalArgumentException.class,
                () -> checked.batchNormForward(x, y, c2, c3, c3, c3, null, null, 1, 3, 1, 1e-5f, 0.1f, false));
        assertEquals("gamma [2] has 2 elements, expected 3", gamma.getMessage());
        IllegalArgumentException momentum = assertThrows(IllegalArgumentException.class,
                () -> checked.batchNormForward(x, y, c3, c3, c3, c3, c3, c3, 1, 3, 1, 1e-5f, 1.5f, true));
        assertEquals("batch norm momentum must be in [0, 1], got 1.5", momentum.getMessage());
    }

    @Test
    void lrnOfSizeOneByHand() {
        // size 1, alpha 1, beta 1, k 1: y = x / (1 + x^2), dy/dx = (1 - x^2) / (1 + x^2)^2.
        float[] x = {0f, 0.5f, -2f, 3f};
        Tensor tx = tensor(cpu, x, 1, 4, 1), y = cpu.allocate(tx.shape()), scale = cpu.allocate(tx.shape()), dx = cpu.allocate(tx.shape());
        cpu.lrnForward(tx, y, scale, 1, 4, 1, 1, 1f, 1f, 1f);
        cpu.lrnBackward(tx, y, scale, tensor(cpu, new float[] {1, 1, 1, 1}, 1, 4, 1), dx, 1, 4, 1, 1, 1f, 1f, 1f);
        float[] expectedY = new float[4], expectedDx = new float[4], expectedScale = new float[4];
        for (int i = 0; i < 4; i++) {
            double s = 1 + (double) x[i] * x[i];
            expectedScale[i] = (float) s;
            expectedY[i] = (float) (x[i] / s);
            expectedDx[i] = (float) ((1 - (double) x[i] * x[i]) / (s * s));
        }
        assertArrayEquals(expectedScale, cpu.download(scale));
        assertArrayEquals(expectedY, cpu.download(y), 1e-7f);
        assertArrayEquals(expectedDx, cpu.download(dx), 1e-6f);
    }

    @Test
    void lrnNamesBadArguments() {
        Tensor x = cpu.allocate(Shape.of(1, 4, 2)), s = cpu.allocate(x.shape());
        IllegalArgumentException alias = assertThrows(IllegalArgumentException.class,
                () -> checked.lrnForward(x, x, s, 1, 4, 2, 5, 1e-4f, 0.75f, 2f));
        assertEquals("lrnForward: y must not be the same tensor as x", alias.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> checked.lrnForward(x, cpu.allocate(x.shape()), s, 1, 4, 2, 0, 1e-4f, 0.75f, 2f));
        assertEquals("LRN size must be >= 1, got 0", size.getMessage());
    }

    @Test
    void lstmStepWithZeroPreActivationsByHand() {
        // All pre-activations 0: i = f = o = 0.5, g = 0, so c = cPrev / 2 and h = tanh(c) / 2.
        int batch = 1, hidden = 2;
        Tensor gates = cpu.allocate(Shape.of(4 * hidden)), state = tensor(cpu, new float[] {2, -4}, 2), h = cpu.allocate(Shape.of(2));
        cpu.lstmCellForward(Slice.of(gates), Slice.of(state), Slice.of(state), Slice.of(h), batch, hidden); // c written over cPrev
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0.5f, 0.5f}, cpu.download(gates));
        assertArrayEquals(new float[] {1, -2}, cpu.download(state));
        assertArrayEquals(new float[] {(float) Math.tanh(1) / 2, (float) Math.tanh(-2) / 2}, cpu.download(h), 1e-7f);
    }

    @Test
    void gruMayUpdateItsStateInPlace() {
        Random rnd = new Random(8);
        int batch = 3, hidden = 5;
        float[] gi = CpuGemmTest.random(rnd, 3 * batch * hidden), gh = CpuGemmTest.random(rnd, 3 * batch * hidden);
        float[] h0 = CpuGemmTest.random(rnd, batch * hidden), dh = CpuGemmTest.random(rnd, batch * hidden);
        Tensor tgi = tensor(cpu, gi, gi.length), tgh = tensor(cpu, gh, gh.length), saved = cpu.allocate(Shape.of(gi.length));
        Tensor hPrev = tensor(cpu, h0, h0.length), h = cpu.allocate(Shape.of(h0.length)), state = tensor(cpu, h0, h0.length);
        Slice giS = Slice.of(tgi), ghS = Slice.of(tgh), savedS = Slice.of(saved), stateS = Slice.of(state);
        cpu.gruCellForward(giS, ghS, Slice.of(hPrev), Slice.of(h), savedS, batch, hidden);
        cpu.gruCellForward(giS, ghS, stateS, stateS, savedS, batch, hidden);
        assertArrayEquals(cpu.download(h), cpu.download(state));

        Tensor dGi = cpu.allocate(Shape.of(gi.length)), dGh = cpu.allocate(Shape.of(gi.length));
        Tensor tdh = tensor(cpu, dh, dh.length), dhPrev = cpu.allocate(Shape.of(dh.length));
        Slice dhS = Slice.of(tdh), dGiS = Slice.of(dGi), dGhS = Slice.of(dGh);
        cpu.gruCellBackward(savedS, ghS, Slice.of(hPrev), dhS, dGiS, dGhS, Slice.of(dhPrev), batch, hidden);
        float[] z = new float[batch * hidden];
        float[] s = cpu.download(saved);
        for (int b = 0; b < batch; b++) System.arraycopy(s, b * 3 * hidden + hidden, z, b * hidden, hidden);
        float[] expected = new float[dh.length];
        for (int i = 0; i < dh.length; i++) expected[i] = z[i] * dh[i];
        assertArrayEquals(expected, cpu.download(dhPrev), "the direct part of dh_{t-1} is z * dh");
        cpu.gruCellBackward(savedS, ghS, Slice.of(hPrev), dhS, dGiS, dGhS, dhS, batch, hidden); // written over dh
        assertArrayEquals(expected, cpu.download(tdh));
    }

    @Test
    void recurrentCellsNameBadSlices() {
        Tensor gates = cpu.allocate(Shape.of(2, 8)), c = cpu.allocate(Shape.of(2, 2)), h = cpu.allocate(Shape.of(2, 2));
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                () -> checked.lstmCellForward(Slice.of(gates, 1, 16), Slice.of(c), Slice.of(c), Slice.of(h), 2, 2));
        assertEquals("gates range [1, 17) is outside [0, 16)", range.getMessage());
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
                () -> checked.lstmCellForward(Slice.of(gates, 0, 8), Slice.of(c, 0, 2), Slice.of(c, 0, 2), Slice.of(gates, 6, 2), 1, 2));
        assertEquals("lstmCellForward: h [6, 8) overlaps gates [0, 8) of the same tensor", overlap.getMessage());
        IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
                () -> checked.lstmCellForward(Slice.of(gates, 0, 8), Slice.of(c), Slice.of(c, 0, 2), Slice.of(h, 0, 2), 1, 2));
        assertEquals("cPrev slice has 4 elements, expected 2", length.getMessage());
    }

    @Test
    void embeddingIndicesAreCheckedBeforeAnythingIsWritten() {
        Tensor table = tensor(cpu, new float[] {1, 2, 3, 4, 5, 6}, 3, 2), out = cpu.allocate(Shape.of(3, 2));
        Tensor indices = tensor(cpu, new float[] {2, 0, 2}, 3);
        cpu.gatherRows(table, indices, out, 3, 2);
        assertArrayEquals(new float[] {5, 6, 1, 2, 5, 6}, cpu.download(out));
        cpu.scatterAddRows(tensor(cpu, new float[] {1, 1, 10, 10, 100, 100}, 3, 2), indices, table, 3, 2);
        assertArrayEquals(new float[] {11, 12, 3, 4, 106, 107}, cpu.download(table), "row 2 gets rows 0 and 2 of dOut");

        Tensor bad = tensor(cpu, new float[] {0, 1.5f, 7}, 3);
        cpu.fill(out, -1f);
        IllegalArgumentException fraction = assertThrows(IllegalArgumentException.class, () -> cpu.gatherRows(table, bad, out, 3, 2));
        assertEquals("index 1.5 of row 1 is not a row of the table [0, 3)", fraction.getMessage());
        assertArrayEquals(new float[] {-1, -1, -1, -1, -1, -1}, cpu.download(out), "row 0 must not have been gathered");
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class, () -> checked.gatherRows(table, indices, out, 3, 4));
        assertEquals("gatherRows: table [3, 2] (6 elements) is not a whole number of rows of 4", width.getMessage());
    }

    /** Every new op on sizes above its parallel threshold gives the same bits for any thread count. */
    @Test
    void layerOpsGiveTheSameBitsForAnyThreadCount() {
        Random rnd = new Random(17);
        int n = 8, c = 16, inner = 24 * 24;
        float[] x = CpuGemmTest.random(rnd, n * c * inner), dy = CpuGemmTest.random(rnd, x.length), g = CpuGemmTest.random(rnd, c);
        int batch = 64, hidden = 128;
        float[] gates = CpuGemmTest.random(rnd, 4 * batch * hidden), state = CpuGemmTest.random(rnd, batch * hidden);
        float[] dh = CpuGemmTest.random(rnd, batch * hidden);
        int vocab = 50, rows = 700, width = 96;
        float[] table = CpuGemmTest.random(rnd, vocab * width), indices = new float[rows], dOut = CpuGemmTest.random(rnd, rows * width);
        for (int r = 0; r < rows; r++) indices[r] = rnd.nextInt(vocab);

        List<float[]> reference = null;
        for (int threads : new int[] {1, 2, 3, 5}) {
            try (CpuBackend b = new CpuBackend(threads)) {
                List<float[]> results = new ArrayList<>();
                Tensor tx = tensor(b, x, n, c, inner), tdy = tensor(b, dy, n, c, inner), gamma = tensor(b, g, c), beta = tensor(b, g, c);
                Tensor rm = b.allocate(Shape.of(c)), rv = b.allocate(Shape.of(c)), mean = b.allocate(Shape.of(c)), inv = b.allocate(Shape.of(c));
                Tensor y = b.allocate(tx.shape()), dx = b.allocate(tx.shape()), dg = b.allocate(Shape.of(c)), db = b.allocate(Shape.of(c));
                b.batchNormForward(tx, y, gamma, beta, rm, rv, mean, inv, n, c, inner, 1e-5f, 0.1f, true);
                b.batchNormBackward(tx, tdy, gamma, mean, inv, dx, dg, db, n, c, inner);
                for (Tensor t : new Tensor[] {y, rm, rv, mean, inv, dx, dg, db}) results.add(b.download(t));

                Tensor scale = b.allocate(tx.shape());
                b.lrnForward(tx, y, scale, n, c, inner, 5, 1e-2f, 0.75f, 2f);
                b.lrnBackward(tx, y, scale, tdy, dx, n, c, inner, 5, 1e-2f, 0.75f, 2f);
                results.add(b.download(y));
                results.add(b.download(dx));

                Tensor tg = tensor(b, gates, gates.length), cPrev = tensor(b, state, state.length), cell = b.allocate(Shape.of(state.length));
                Tensor h = b.allocate(Shape.of(state.length)), tdh = tensor(b, dh, dh.length), dc = tensor(b, dh, dh.length);
                Tensor dGates = b.allocate(Shape.of(gates.length));
                b.lstmCellForward(Slice.of(tg), Slice.of(cPrev), Slice.of(cell), Slice.of(h), batch, hidden);
                b.lstmCellBackward(Slice.of(tg), Slice.of(cPrev), Slice.of(cell), Slice.of(tdh), Slice.of(dc), Slice.of(dGates), batch, hidden);
                for (Tensor t : new Tensor[] {tg, cell, h, dc, dGates}) results.add(b.download(t));

                // GRU: gi and gh are two overlapping [B, 3H] windows of the random gate data (inputs may share storage).
                Tensor gi = tensor(b, gates, gates.length), saved = b.allocate(Shape.of(3 * batch * hidden));
                Tensor dGi = b.allocate(saved.shape()), dGh = b.allocate(saved.shape()), dhPrev = b.allocate(Shape.of(state.length));
                int gateBlock = 3 * batch * hidden;
                Slice giS = Slice.of(gi, 0, gateBlock), ghS = Slice.of(gi, batch * hidden, gateBlock);
                b.gruCellForward(giS, ghS, Slice.of(cPrev), Slice.of(h), Slice.of(saved), batch, hidden);
                b.gruCellBackward(Slice.of(saved), ghS, Slice.of(cPrev), Slice.of(tdh), Slice.of(dGi), Slice.of(dGh), Slice.of(dhPrev), batch, hidden);
                for (Tensor t : new Tensor[] {h, saved, dGi, dGh, dhPrev}) results.add(b.download(t));

                Tensor tt = tensor(b, table, vocab, width), ti = tensor(b, indices, rows), out = b.allocate(Shape.of(rows, width));
                b.gatherRows(tt, ti, out, rows, width);
                b.scatterAddRows(tensor(b, dOut, rows, width), ti, tt, rows, width);
                results.add(b.download(out));
                results.add(b.download(tt));

                Tensor padded = b.allocate(Shape.of(n * c * 26 * 26));
                b.pad2d(tx, padded, n * c, 24, 24, 1, 1, 26, 26);
                b.crop2d(padded, dx, n * c, 24, 24, 0, 2, 26, 26);
                results.add(b.download(padded));
                results.add(b.download(dx));

                if (reference == null) reference = results;
                else for (int i = 0; i < results.size(); i++) assertArrayEquals(reference.get(i), results.get(i), threads + " threads, output " + i);
            }
        }
    }
}
