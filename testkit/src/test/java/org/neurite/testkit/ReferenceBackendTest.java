package org.neurite.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.OpChecks;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The derived ops as {@code Backend}'s default compositions run them on the reference backend,
 * where the PyTorch fixtures do not look: hand-worked values, the aliasing each op allows (an
 * in-place call must give what the out-of-place one gives), and data refused before anything is
 * written. The fixture suite itself runs on this backend in the integration tests.
 */
class ReferenceBackendTest {
    private final Backend b = ReferenceBackend.checked();
    private final SplittableRandom random = new SplittableRandom(5);

    private Tensor tensor(float... values) {
        Tensor t = b.allocate(Shape.of(values.length));
        b.upload(values, t);
        return t;
    }

    private Tensor random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextDouble(-2, 2);
        return tensor(v);
    }

    private Tensor copyOf(Tensor t) { return tensor(b.download(t)); }

    private Tensor filled(int n, float value) {
        Tensor t = b.allocate(Shape.of(n));
        b.fill(t, value);
        return t;
    }

    @Test void softmaxAndCrossEntropyByHand() {
        // Row [0, ln 3]: softmax [1/4, 3/4]; with label 1 the loss is -ln(3/4) and dLogits = (p - onehot) / 2.
        Tensor logits = tensor(0f, (float) Math.log(3), 5f, 5f), labels = tensor(1f, 0f), y = b.allocate(Shape.of(4));
        b.softmax(logits, y, 2, 2);
        assertArrayEquals(new float[] {0.25f, 0.75f, 0.5f, 0.5f}, b.download(y), 1e-7f);
        Tensor dLogits = filled(4, Float.NaN);
        double loss = b.softmaxCrossEntropy(logits, labels, dLogits, 2, 2, 0.5f);
        assertEquals(-Math.log(0.75) - Math.log(0.5), loss, 1e-6);
        assertArrayEquals(new float[] {0.125f, -0.125f, -0.25f, 0.25f}, b.download(dLogits), 1e-7f);
    }

    @Test void softmaxFamilyInPlace() {
        Tensor x = random(12), y = b.allocate(Shape.of(12)), inPlace = copyOf(x);
        b.softmax(x, y, 3, 4);
        b.softmax(inPlace, inPlace, 3, 4);
        assertArrayEquals(b.download(y), b.download(inPlace));

        Tensor dy = random(12), dx = b.allocate(Shape.of(12)), dyInPlace = copyOf(dy);
        b.softmaxBackward(y, dy, dx, 3, 4);
        b.softmaxBackward(y, dyInPlace, dyInPlace, 3, 4);
        assertArrayEquals(b.download(dx), b.download(dyInPlace));

        Tensor labels = tensor(3f, 0f, 2f), dLogits = b.allocate(Shape.of(12)), logitsInPlace = copyOf(x);
        double loss = b.softmaxCrossEntropy(x, labels, dLogits, 3, 4, 1f / 3);
        assertEquals(loss, b.softmaxCrossEntropy(logitsInPlace, labels, logitsInPlace, 3, 4, 1f / 3));
        assertArrayEquals(b.download(dLogits), b.download(logitsInPlace));
    }

    @Test void aLabelThatIsNotAClassIsRefusedBeforeAnythingIsWritten() {
        for (float bad : new float[] {4f, -1f, 1.5f, Float.NaN}) {
            Tensor logits = random(8), dLogits = filled(8, 7f);
            var e = assertThrows(IllegalArgumentException.class,
                    () -> b.softmaxCrossEntropy(logits, tensor(0f, bad), dLogits, 2, 4, 1f));
            assertEquals(OpChecks.badLabel(bad, 1, 4).getMessage(), e.getMessage());
            assertArrayEquals(b.download(filled(8, 7f)), b.download(dLogits), "dLogits untouched");
        }
    }

    @Test void axpbyWithXAsYAndWithoutReadingY() {
        Tensor y = tensor(1f, -2f, 4f);
        b.axpby(2f, y, 3f, y);
        assertArrayEquals(new float[] {5f, -10f, 20f}, b.download(y));
        Tensor stale = filled(3, Float.NaN);
        b.axpby(0.5f, tensor(2f, 4f, 6f), 0f, stale);
        assertArrayEquals(new float[] {1f, 2f, 3f}, b.download(stale));
    }

    @Test void zeroPaddingByHand() {
        // One 1x2 plane at (top 1, left 0) of a 2x3 plane, then cropped back.
        Tensor x = tensor(1f, 2f), y = filled(6, 7f), back = b.allocate(Shape.of(2));
        b.pad2d(x, y, 1, 1, 2, 1, 0, 2, 3);
        assertArrayEquals(new float[] {0, 0, 0, 1, 2, 0}, b.download(y));
        b.crop2d(y, back, 1, 1, 2, 1, 0, 2, 3);
        assertArrayEquals(new float[] {1, 2}, b.download(back));
    }

    @Test void batchNormInPlaceAndWithoutParameterGradients() {
        int outer = 3, channels = 2, inner = 4, n = outer * channels * inner;
        Tensor x = random(n), gamma = random(channels), beta = random(channels);
        Tensor[] plain = {b.allocate(Shape.of(n)), filled(channels, 0f), filled(channels, 1f), b.allocate(Shape.of(channels)), b.allocate(Shape.of(channels))};
        Tensor[] inPlace = {copyOf(x), filled(channels, 0f), filled(channels, 1f), b.allocate(Shape.of(channels)), b.allocate(Shape.of(channels))};
        for (Tensor[] t : new Tensor[][] {plain, inPlace})
            b.batchNormForward(t == plain ? x : t[0], t[0], gamma, beta, t[1], t[2], t[3], t[4], outer, channels, inner, 1e-5f, 0.1f, true);
        for (int i = 0; i < plain.length; i++) assertArrayEquals(b.download(plain[i]), b.download(inPlace[i]), "output " + i);

        // Each channel of y has mean beta: the normalised values sum to zero.
        float[] y = b.download(plain[0]), be = b.download(beta);
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) sum += y[(o * channels + c) * inner + i];
            assertEquals(be[c], sum / (outer * inner), 1e-5);
        }

        Tensor dy = random(n), dx = b.allocate(Shape.of(n)), dgamma = b.allocate(Shape.of(channels)), dbeta = b.allocate(Shape.of(channels));
        b.batchNormBackward(x, dy, gamma, plain[3], plain[4], dx, dgamma, dbeta, outer, channels, inner);
        Tensor dyInPlace = copyOf(dy);
        b.batchNormBackward(x, dyInPlace, gamma, plain[3], plain[4], dyInPlace, null, null, outer, channels, inner);
        assertArrayEquals(b.download(dx), b.download(dyInPlace));
    }

    @Test void recurrentCellsWithStateUpdatedInPlace() {
        int batch = 2, hidden = 3, state = batch * hidden;
        Tensor gates = random(4 * state), gatesAgain = copyOf(gates), cPrev = random(state), c = b.allocate(Shape.of(state));
        Tensor h = b.allocate(Shape.of(state)), hAgain = b.allocate(Shape.of(state)), cInPlace = copyOf(cPrev);
        b.lstmCellForward(Slice.of(gates), Slice.of(cPrev), Slice.of(c), Slice.of(h), batch, hidden);
        b.lstmCellForward(Slice.of(gatesAgain), Slice.of(cInPlace), Slice.of(cInPlace), Slice.of(hAgain), batch, hidden);
        assertArrayEquals(b.download(c), b.download(cInPlace));
        assertArrayEquals(b.download(h), b.download(hAgain));

        Tensor gi = random(3 * state), gh = random(3 * state), hPrev = random(state), saved = b.allocate(Shape.of(3 * state));
        Tensor hInPlace = copyOf(hPrev), savedAgain = b.allocate(Shape.of(3 * state));
        b.gruCellForward(Slice.of(gi), Slice.of(gh), Slice.of(hPrev), Slice.of(h), Slice.of(saved), batch, hidden);
        b.gruCellForward(Slice.of(gi), Slice.of(gh), Slice.of(hInPlace), Slice.of(hInPlace), Slice.of(savedAgain), batch, hidden);
        assertArrayEquals(b.download(h), b.download(hInPlace));

        Tensor dh = random(state), dGi = b.allocate(Shape.of(3 * state)), dGh = b.allocate(Shape.of(3 * state));
        Tensor dhPrev = b.allocate(Shape.of(state)), dhInPlace = copyOf(dh);
        b.gruCellBackward(Slice.of(saved), Slice.of(gh), Slice.of(hPrev), Slice.of(dh), Slice.of(dGi), Slice.of(dGh), Slice.of(dhPrev), batch, hidden);
        b.gruCellBackward(Slice.of(saved), Slice.of(gh), Slice.of(hPrev), Slice.of(dhInPlace), Slice.of(b.allocate(Shape.of(3 * state))),
                Slice.of(b.allocate(Shape.of(3 * state))), Slice.of(dhInPlace), batch, hidden);
        assertArrayEquals(b.download(dhPrev), b.download(dhInPlace), "dhPrev = z * dh");
    }

    @Test void plainSgdNeedsNoVelocity() {
        Tensor param = tensor(1f, 2f);
        b.sgdUpdate(param, tensor(10f, -10f), null, 0.1f, 0f, 0.5f, false);
        // g = grad + 0.5 * param = [10.5, -9]; param -= 0.1 * g
        assertArrayEquals(new float[] {1f - 1.05f, 2f + 0.9f}, b.download(param), 1e-6f);
    }

    @Test void badIndicesAreRefusedBeforeAnythingIsWritten() {
        Tensor table = random(6), out = filled(4, 7f);
        var e = assertThrows(IllegalArgumentException.class, () -> b.gatherRows(table, tensor(1f, 3f), out, 2, 2));
        assertEquals(OpChecks.badRowIndex(3f, 1, 3).getMessage(), e.getMessage());
        assertArrayEquals(b.download(filled(4, 7f)), b.download(out));

        // A 1x1 plane of 2x2 input pooled with a 2x2 window: the only output's argmax must lie in [0, 4).
        Pool2dGeometry g = new Pool2dGeometry(1, 1, 2, 2, 2, 2, 2, 2, 0, 0, false, true);
        Tensor dx = filled(4, 7f);
        assertThrows(IllegalArgumentException.class, () -> b.maxPool2dBackward(g, tensor(1f), tensor(4f), dx));
        assertArrayEquals(b.download(filled(4, 7f)), b.download(dx));
    }

    // ---- the training step on the device: the default compositions ----------------------

    @Test void theTrainingStepsOpsByHand() {
        Tensor status = filled(8, 7f);
        b.sumOfSquares(List.of(tensor(1f, -2f), b.allocate(Shape.of(0)), tensor(3f)), Slice.of(status, 2, 1));
        // Rows: a tie (the first class wins), a NaN first (it wins), a NaN later (it does not), a label that is no class.
        Tensor logits = tensor(1f, 1f, 0f, Float.NaN, 5f, 0f, 0f, 9f, Float.NaN, 4f, 1f, 2f);
        b.countCorrect(logits, tensor(0f, 0f, 2f, 3f), 4, 3, Slice.of(status, 3, 1));
        Tensor x = random(6), labels = tensor(2f, 0f), dLogits = b.allocate(Shape.of(6));
        double expectedLoss = b.softmaxCrossEntropy(x, labels, b.allocate(Shape.of(6)), 2, 3, 0.5f);
        b.softmaxCrossEntropy(x, labels, dLogits, 2, 3, 0.5f, Slice.of(status, 4, 1));
        float[] v = b.download(status);
        assertEquals(14f, v[2], 0f, "1 + 4 + 0 + 9");
        assertEquals(2f, v[3], 0f, "the tie and the leading NaN");
        assertEquals((float) expectedLoss, v[4], 0f);

        Slice squaredNorm = Slice.of(status, 2, 1), control = Slice.of(status, 0, 2);
        b.fill(control, 0f);
        b.stepControl(squaredNorm, null, 0f, control);
        assertArrayEquals(new float[] {1f, 0f}, Arrays.copyOf(b.download(status), 2), "clipping off, finite");
        b.fill(squaredNorm, 16f);
        b.stepControl(squaredNorm, null, 2f, control);
        assertArrayEquals(new float[] {(float) (2 / (4 + 1e-6)), 0f}, Arrays.copyOf(b.download(status), 2), "norm 4 clipped to 2");
        b.fill(Slice.of(status, 4, 1), Float.POSITIVE_INFINITY);
        b.stepControl(squaredNorm, Slice.of(status, 4, 1), 0f, control);
        assertEquals(1f, b.download(status)[1], 0f, "an infinite loss sets the skip flag");
        b.fill(Slice.of(status, 4, 1), 1f);
        b.stepControl(squaredNorm, Slice.of(status, 4, 1), 0f, control);
        assertEquals(1f, b.download(status)[1], 0f, "and it stays set");
    }

    /** A controlled update: the gradient scaled by the factor first; a set flag changes nothing; no control, the plain update. */
    @Test void controlledUpdatesScaleTheGradientOrChangeNothing() {
        Tensor param = tensor(1f, 2f), velocity = tensor(0.5f, -0.5f), grad = tensor(4f, -8f);
        Tensor expected = copyOf(param), expectedVelocity = copyOf(velocity);
        b.sgdUpdate(expected, tensor(1f, -2f), expectedVelocity, 0.1f, 0.9f, 0.01f, true);
        b.sgdUpdate(param, grad, velocity, 0.1f, 0.9f, 0.01f, true, Slice.of(tensor(0.25f, 0f)));
        assertArrayEquals(b.download(expected), b.download(param), "grad * 0.25");
        assertArrayEquals(b.download(expectedVelocity), b.download(velocity));

        Tensor m = tensor(0.1f, 0.2f), v = tensor(0.3f, 0.4f);
        float[] before = b.download(param), mBefore = b.download(m), vBefore = b.download(v);
        Slice skip = Slice.of(tensor(1f, 1f));
        b.adamUpdate(param, grad, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, 3, skip);
        b.adamwUpdate(param, grad, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, 3, skip);
        b.rmspropUpdate(param, grad, m, v, null, 0.1f, 0.9f, 1e-8f, 0.1f, 0.9f, false, skip);
        assertArrayEquals(before, b.download(param), "skipped: the weights");
        assertArrayEquals(mBefore, b.download(m), "and the state");
        assertArrayEquals(vBefore, b.download(v));

        Tensor plain = copyOf(param), controlled = copyOf(param);
        b.adamUpdate(plain, grad, copyOf(m), copyOf(v), 0.1f, 0.9f, 0.999f, 1e-8f, 0f, 1);
        b.adamUpdate(controlled, grad, copyOf(m), copyOf(v), 0.1f, 0.9f, 0.999f, 1e-8f, 0f, 1, null);
        assertArrayEquals(b.download(plain), b.download(controlled), "a null control is the plain update");
    }
}
