package org.neurite.plugins.recurrent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/**
 * Hand-worked values: the recurrences written out step by step for one-unit layers, what
 * {@code sequences=false} returns for a bidirectional layer, dropout between stacked layers, and
 * embedding lookups.
 */
class RecurrentValueTest {
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    private static LayerArgs args(LayerType type, int hidden, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return type.schema().bind(List.of(hidden), map);
    }

    private static float sigmoid(double x) { return (float) (1 / (1 + Math.exp(-x))); }

    private static float tanh(double x) { return (float) Math.tanh(x); }

    @Test void rnnIsTheElmanRecurrenceInBothDirections() {
        Rnn rnn = new Rnn();
        try (LayerHarness h = LayerHarness.compile(rnn, args(rnn, 1, "bidirectional", true), 1, cpu, Shape.of(3, 1))) {
            h.setInput(0, new float[] {1, 2, -1});
            h.setParam("weight_ih_l0", new float[] {0.5f});
            h.setParam("weight_hh_l0", new float[] {-1});
            h.setParam("bias_ih_l0", new float[] {0.1f});
            h.setParam("bias_hh_l0", new float[] {0.2f});
            h.setParam("weight_ih_l0_reverse", new float[] {-0.25f});
            h.setParam("weight_hh_l0_reverse", new float[] {2});
            h.setParam("bias_ih_l0_reverse", new float[] {0});
            h.setParam("bias_hh_l0_reverse", new float[] {0.3f});
            // forward: h_t = tanh(0.5 x_t + 0.3 - h_{t-1}), from t = 0
            float f0 = tanh(0.5 + 0.3), f1 = tanh(1.0 + 0.3 - f0), f2 = tanh(-0.5 + 0.3 - f1);
            // reverse: h_t = tanh(-0.25 x_t + 0.3 + 2 h_{t+1}), from t = 2
            float r2 = tanh(0.25 + 0.3), r1 = tanh(-0.5 + 0.3 + 2 * r2), r0 = tanh(-0.25 + 0.3 + 2 * r1);
            assertArrayEquals(new float[] {f0, r0, f1, r1, f2, r2}, h.forward(), 1e-6f);
        }
    }

    @Test void lstmFollowsItsGateEquations() {
        // One unit, two steps; the gate rows of weight_ih / weight_hh are i, f, g, o.
        Lstm lstm = new Lstm();
        try (LayerHarness h = LayerHarness.compile(lstm, args(lstm, 1), 1, cpu, Shape.of(2, 1))) {
            float[] wi = {0.5f, -0.4f, 0.9f, 0.3f};
            float[] wh = {0.2f, 0.7f, -0.6f, -0.1f};
            float[] b = {0.1f, 0.5f, 0f, -0.2f};   // bias_ih; bias_hh stays 0, so b = b_ih
            h.setInput(0, new float[] {1, -2});
            h.setParam("weight_ih_l0", wi);
            h.setParam("weight_hh_l0", wh);
            h.setParam("bias_ih_l0", b);
            double hPrev = 0, cPrev = 0;
            float[] expected = new float[2];
            float[] x = {1, -2};
            for (int t = 0; t < 2; t++) {
                float i = sigmoid(wi[0] * x[t] + wh[0] * hPrev + b[0]);
                float f = sigmoid(wi[1] * x[t] + wh[1] * hPrev + b[1]);
                float g = tanh(wi[2] * x[t] + wh[2] * hPrev + b[2]);
                float o = sigmoid(wi[3] * x[t] + wh[3] * hPrev + b[3]);
                cPrev = f * cPrev + i * g;
                hPrev = o * Math.tanh(cPrev);
                expected[t] = (float) hPrev;
            }
            assertArrayEquals(expected, h.forward(), 1e-6f);
        }
    }

    @Test void gruBlendsTheCandidateWithThePreviousState() {
        Gru gru = new Gru();
        try (LayerHarness h = LayerHarness.compile(gru, args(gru, 1, "sequences", false), 1, cpu, Shape.of(2, 1))) {
            float[] wi = {0.6f, -0.3f, 0.8f};   // r, z, n
            float[] wh = {-0.5f, 0.4f, 1.5f};
            float[] bh = {0.1f, 0.2f, -0.3f};
            h.setInput(0, new float[] {2, -1});
            h.setParam("weight_ih_l0", wi);
            h.setParam("weight_hh_l0", wh);
            h.setParam("bias_hh_l0", bh);
            double hPrev = 0;
            float[] x = {2, -1};
            for (int t = 0; t < 2; t++) {
                float r = sigmoid(wi[0] * x[t] + wh[0] * hPrev + bh[0]);
                float z = sigmoid(wi[1] * x[t] + wh[1] * hPrev + bh[1]);
                // b_hn sits inside the reset product: n = tanh(W_in x + r (W_hn h + b_hn))
                float n = tanh(wi[2] * x[t] + r * (wh[2] * hPrev + bh[2]));
                hPrev = (1 - z) * n + z * hPrev;
            }
            assertArrayEquals(new float[] {(float) hPrev}, h.forward(), 1e-6f);
        }
    }

    @Test void finalStateOfABidirectionalLayerIsHnNotTheLastOutputRow() {
        // sequences=false returns PyTorch's h_n: the forward direction after t = T-1 and the
        // reverse direction after t = 0, i.e. [y[T-1, :H], y[0, H:]] of the whole-sequence output.
        Lstm lstm = new Lstm();
        int batch = 2, time = 4, hidden = 3;
        float[] x = new float[batch * time * 2];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i + 1);
        try (LayerHarness all = LayerHarness.compile(lstm, args(lstm, hidden, "bidirectional", true), batch, cpu, Shape.of(time, 2));
             LayerHarness last = LayerHarness.compile(lstm, args(lstm, hidden, "bidirectional", true, "sequences", false), batch, cpu,
                     Shape.of(time, 2))) {
            for (LayerHarness h : List.of(all, last)) {
                h.setInput(0, x);
                int k = 0;
                for (ParamDecl p : h.parameters()) {
                    float[] v = new float[p.shape().size()];
                    for (int i = 0; i < v.length; i++) v[i] = (float) Math.cos(3 * k++) / 2;
                    h.setParam(p.name(), v);
                }
            }
            float[] y = all.forward();
            float[] expected = new float[batch * 2 * hidden];
            int width = 2 * hidden;
            for (int b = 0; b < batch; b++) {
                System.arraycopy(y, (b * time + time - 1) * width, expected, b * width, hidden);
                System.arraycopy(y, (b * time) * width + hidden, expected, b * width + hidden, hidden);
            }
            assertEquals(Shape.of(batch, width), last.outputShape());
            assertArrayEquals(expected, last.forward());
        }
    }

    @Test void dropoutBetweenLayersOnlyWhileTraining() {
        // Two relu layers that pass their input through (W_ih = 1, W_hh = 0, no bias), so the
        // output is x times the dropout mask between them: 0 or x / (1 - p) while training, x at inference.
        Rnn rnn = new Rnn();
        int batch = 4, time = 25;
        try (LayerHarness h = LayerHarness.compile(rnn,
                args(rnn, 1, "layers", 2, "nonlinearity", "relu", "bias", false, "dropout", 0.5), batch, cpu, Shape.of(time, 1))) {
            float[] x = new float[batch * time];
            for (int i = 0; i < x.length; i++) x[i] = 1 + i % 7;
            h.setInput(0, x);
            h.setParam("weight_ih_l0", new float[] {1});
            h.setParam("weight_ih_l1", new float[] {1});
            assertArrayEquals(x, h.training(false).forward());

            float[] y = h.training(true).stepSeed(42).forward();
            int dropped = 0;
            for (int i = 0; i < x.length; i++) {
                if (y[i] == 0) dropped++;
                else assertEquals(2 * x[i], y[i], "kept elements are scaled by 1/(1-p)");
            }
            assertTrue(dropped > 25 && dropped < 75, dropped + " of 100 dropped with p = 0.5");
            // backward multiplies by the same mask: dx = dy where kept (times 2), 0 where dropped
            float[] dy = new float[x.length];
            Arrays.fill(dy, 1);
            h.backward(dy);
            float[] dx = h.gradInput(0);
            for (int i = 0; i < x.length; i++) assertEquals(y[i] == 0 ? 0 : 2, dx[i], "dx at " + i);
            assertArrayEquals(y, h.stepSeed(42).forward(), "the mask depends only on the step seed");
        }
    }

    @Test void embeddingLooksUpRowsAndAddsTheGradientsOfRepeatedTokens() {
        Embedding embedding = new Embedding();
        try (LayerHarness h = LayerHarness.compile(embedding, embedding.schema().bind(List.of(3, 2), Map.of()), 2, cpu, Shape.of(2))) {
            h.setParam("weight", new float[] {1, 2, /* token 1 */ 3, 4, /* token 2 */ 5, 6});
            h.setInput(0, new float[] {2, 0, /* sample 2 */ 2, 2});
            assertArrayEquals(new float[] {5, 6, 1, 2, 5, 6, 5, 6}, h.forward());
            h.backward(new float[] {1, 10, 100, 1000, 0.5f, 0.25f, 2, 4});
            // token 0 once, token 1 never, token 2 three times
            assertArrayEquals(new float[] {100, 1000, 0, 0, 3.5f, 14.25f}, h.gradParam("weight"));
            assertArrayEquals(new float[] {0, 0, 0, 0}, h.gradInput(0), "indices are not differentiable");
        }
    }
}
