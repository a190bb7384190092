package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Slice;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.neurite.testkit.ReferenceBackend;

/**
 * The CPU backend's fused forms of the training step's ops against {@code Backend}'s default
 * compositions, run on the reference backend: the same status floats (squared norm, loss, correct
 * count, control), and the same controlled updates of every optimiser, scaled and skipped. And the
 * CPU backend counts its own ops and reads ({@link Backend#counters}), the losses' calls on a
 * tensor's own backend included.
 */
class CpuTrainingStepOpsTest {
    private final Backend cpu = CheckedBackend.wrap(new CpuBackend(2));
    private final Backend reference = ReferenceBackend.checked();
    private final SplittableRandom random = new SplittableRandom(3);

    private float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextDouble(-2, 2);
        return v;
    }

    private static Tensor tensor(Backend b, float... v) {
        Tensor t = b.allocate(Shape.of(v.length));
        b.upload(v, t);
        return t;
    }

    /** The status floats [control(2), squared norm, loss, correct] of one step's ops on {@code b}. */
    private static float[] status(Backend b, float[] big, float[] small, float[] logits, float[] labels, float maxNorm) {
        Tensor status = b.allocate(Shape.of(5)), dLogits = b.allocate(Shape.of(logits.length));
        Tensor l = tensor(b, logits), y = tensor(b, labels);
        b.sumOfSquares(List.of(tensor(b, big), tensor(b, small)), Slice.of(status, 2, 1));
        b.softmaxCrossEntropy(l, y, dLogits, labels.length, logits.length / labels.length, 0.125f, Slice.of(status, 3, 1));
        b.countCorrect(l, y, labels.length, logits.length / labels.length, Slice.of(status, 4, 1));
        b.stepControl(Slice.of(status, 2, 1), Slice.of(status, 3, 1), maxNorm, Slice.of(status, 0, 2));
        return b.download(status);
    }

    @Test void theStatusOfAStepIsTheDefaultCompositionsStatus() {
        float[] big = values(70_000), small = values(5), logits = values(8 * 5);
        float[] labels = new float[8];
        for (int i = 0; i < labels.length; i++) labels[i] = random.nextInt(5);
        for (float maxNorm : new float[] {0f, 1f, 1e9f}) {
            float[] fused = status(cpu, big, small, logits, labels, maxNorm), composed = status(reference, big, small, logits, labels, maxNorm);
            assertEquals(composed[2], fused[2], 1e-6 * composed[2], "squared norm");
            assertEquals(composed[3], fused[3], 1e-6 * composed[3], "loss");
            assertEquals(composed[4], fused[4], 0, "correct rows");
            assertEquals(composed[0], fused[0], 1e-6, "clip factor at limit " + maxNorm);
            assertEquals(0f, fused[1], 0, "no skip");
        }
    }

    /** Each optimiser, three controlled steps: scaled by 0.5, skipped, and skipped again with the flag left set. */
    @Test void controlledUpdatesMatchTheDefaultCompositions() {
        int n = 40_000;   // above the parallel threshold: the fused loops split the work
        float[] param = values(n), grad = values(n);
        float[][] fused = controlledSteps(cpu, param, grad), composed = controlledSteps(reference, param, grad);
        for (int i = 0; i < fused.length; i++) {
            for (int j = 0; j < n; j++) assertEquals(composed[i][j], fused[i][j], 1e-5 * (1 + Math.abs(composed[i][j])), "tensor " + i + " at " + j);
        }
    }

    /** The weights and state of SGD (Nesterov), Adam, AdamW and centred RMSprop with momentum after three controlled steps on {@code b}. */
    private static float[][] controlledSteps(Backend b, float[] param, float[] grad) {
        Tensor[] weights = {tensor(b, param), tensor(b, param), tensor(b, param), tensor(b, param)};
        Tensor[] state = new Tensor[8];
        for (int i = 0; i < state.length; i++) state[i] = b.allocate(Shape.of(param.length));
        Tensor g = tensor(b, grad);
        float[][] controls = {{0.5f, 0f}, {1f, 1f}, {1f, 1f}};
        for (int step = 1; step <= 3; step++) {
            Slice control = Slice.of(tensor(b, controls[step - 1]));
            b.sgdUpdate(weights[0], g, state[0], 0.1f, 0.9f, 1e-3f, true, control);
            b.adamUpdate(weights[1], g, state[1], state[2], 1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, step, control);
            b.adamwUpdate(weights[2], g, state[3], state[4], 1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, step, control);
            b.rmspropUpdate(weights[3], g, state[5], state[6], state[7], 1e-2f, 0.9f, 1e-6f, 0f, 0.9f, true, control);
        }
        float[][] out = new float[weights.length + state.length][];
        for (int i = 0; i < weights.length; i++) out[i] = b.download(weights[i]);
        for (int i = 0; i < state.length; i++) out[weights.length + i] = b.download(state[i]);
        return out;
    }

    /** Ops called on a tensor's own (unwrapped) backend count too: the losses call them there. */
    @Test void theBackendCountsItsOwnOpsAndReads() {
        CpuBackend raw = new CpuBackend(1);
        Backend checked = CheckedBackend.wrap(raw);
        Tensor x = checked.allocate(Shape.of(4)), out = checked.allocate(Shape.of(1));
        BackendCounters start = checked.counters().orElseThrow();
        x.backend().affine(Slice.of(x), 2f, 1f, Slice.of(x));
        checked.sumOfSquares(List.of(x), Slice.of(out));
        checked.download(out);
        double sum = x.backend().sumOfSquares(x);
        assertEquals(4 * 1.0, sum, 0);
        assertEquals(new BackendCounters(3, 2), checked.counters().orElseThrow().minus(start), "affine and two sums; a download and a returned value");
        assertArrayEquals(new float[] {4f}, checked.download(out));
        raw.close();
    }
}
