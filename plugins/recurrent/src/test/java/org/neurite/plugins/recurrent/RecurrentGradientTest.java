package org.neurite.plugins.recurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.GradientCase;
import org.neurite.testkit.GradientChecker;
import org.neurite.testkit.GradientReport;
import org.neurite.testkit.LayerHarness;

/**
 * Back-propagation through time against central differences on the CPU backend: every recurrent
 * layer with one and two layers, both directions, whole sequences and final states, with and
 * without bias, and dropout between layers under a fixed step seed. Each test also lists the
 * tensors compared and how many elements, so a parameter that is not declared, or an input
 * gradient that is skipped, cannot pass unnoticed.
 */
class RecurrentGradientTest {
    private static final GradientChecker CHECKER = new GradientChecker(1e-2, 1e-2, 0x5EED_0BB7L);
    /** For relu, whose kink a 1e-2 step can cross. */
    private static final GradientChecker FINE_CHECKER = new GradientChecker(1e-3, 1e-2, 0x5EED_0BB7L);
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    /** {@code type(hidden, name=value...)}. */
    private static LayerArgs args(LayerType type, int first, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return type.schema().bind(List.of(first), map);
    }

    private static List<String> checked(GradientReport report) {
        return report.tensors().stream().map(t -> t.name() + " " + t.shape() + " x" + t.checked()).toList();
    }

    @Test void embeddingWeightAgainstCentralDifferences() {
        // The shared checker draws inputs in [-1, 1), which are not token indices (the backend
        // refuses them), so this drives the same comparison through the harness with chosen
        // indices: loss = sum(y * R), each weight element moved by ±step. Token 1 is read twice,
        // token 3 never, so the check covers both accumulation and rows that get no gradient.
        Embedding embedding = new Embedding();
        float[] indices = {1, 0, 1, /* sample 2 */ 2, 1, 0};
        SplittableRandom rng = new SplittableRandom(11);
        float[] weight = new float[4 * 3];
        for (int i = 0; i < weight.length; i++) weight[i] = (float) (rng.nextDouble() * 2 - 1);
        float[] r = new float[2 * 3 * 3];
        for (int i = 0; i < r.length; i++) r[i] = (float) (rng.nextDouble() * 2 - 1);
        try (LayerHarness h = LayerHarness.compile(embedding, embedding.schema().bind(List.of(4, 3), Map.of()), 2, cpu, Shape.of(3))) {
            h.setInput(0, indices);
            h.setParam("weight", weight);
            h.forward();
            h.backward(r);
            float[] analytic = h.gradParam("weight");
            double step = 1e-2;
            for (int j = 0; j < weight.length; j++) {
                float[] moved = weight.clone();
                moved[j] = (float) (weight[j] + step);
                h.setParam("weight", moved);
                double plus = dot(h.forward(), r);
                moved[j] = (float) (weight[j] - step);
                h.setParam("weight", moved);
                double minus = dot(h.forward(), r);
                double numeric = (plus - minus) / ((double) (float) (weight[j] + step) - (float) (weight[j] - step));
                assertEquals(numeric, analytic[j], 1e-3 + 1e-3 * Math.abs(numeric), "dweight at " + j);
            }
            for (int j = 9; j < 12; j++) assertEquals(0f, analytic[j], "token 3 is never read");
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    @Test void rnnTanh() {
        Rnn rnn = new Rnn();
        GradientCase c = GradientCase.of(rnn, args(rnn, 4), 2, Shape.of(5, 3));
        assertEquals(List.of("input 0 [2, 5, 3] x30", "weight_ih_l0 [4, 3] x12", "weight_hh_l0 [4, 4] x16",
                "bias_ih_l0 [4] x4", "bias_hh_l0 [4] x4"), checked(CHECKER.check(c, cpu)));
    }

    @Test void rnnReluTwoLayersBidirectional() {
        // A smaller step: moving a weight by 1e-2 can push a pre-activation across relu's kink,
        // where the central difference straddles the corner and no analytic gradient matches.
        Rnn rnn = new Rnn();
        GradientCase c = GradientCase.of(rnn, args(rnn, 3, "nonlinearity", "relu", "layers", 2, "bidirectional", true), 2,
                Shape.of(4, 2));
        assertEquals(List.of("input 0 [2, 4, 2] x16",
                "weight_ih_l0 [3, 2] x6", "weight_hh_l0 [3, 3] x9", "bias_ih_l0 [3] x3", "bias_hh_l0 [3] x3",
                "weight_ih_l0_reverse [3, 2] x6", "weight_hh_l0_reverse [3, 3] x9", "bias_ih_l0_reverse [3] x3", "bias_hh_l0_reverse [3] x3",
                "weight_ih_l1 [3, 6] x18", "weight_hh_l1 [3, 3] x9", "bias_ih_l1 [3] x3", "bias_hh_l1 [3] x3",
                "weight_ih_l1_reverse [3, 6] x18", "weight_hh_l1_reverse [3, 3] x9", "bias_ih_l1_reverse [3] x3", "bias_hh_l1_reverse [3] x3"),
                checked(FINE_CHECKER.check(c, cpu)));
    }

    @Test void lstmOneLayer() {
        Lstm lstm = new Lstm();
        GradientCase c = GradientCase.of(lstm, args(lstm, 4), 2, Shape.of(5, 3));
        assertEquals(List.of("input 0 [2, 5, 3] x30", "weight_ih_l0 [16, 3] x48", "weight_hh_l0 [16, 4] x64",
                "bias_ih_l0 [16] x16", "bias_hh_l0 [16] x16"), checked(CHECKER.check(c, cpu)));
    }

    @Test void lstmTwoLayersFinalState() {
        Lstm lstm = new Lstm();
        GradientCase c = GradientCase.of(lstm, args(lstm, 3, "layers", 2, "sequences", false), 3, Shape.of(4, 2));
        assertEquals(List.of("input 0 [3, 4, 2] x24", "weight_ih_l0 [12, 2] x24", "weight_hh_l0 [12, 3] x36",
                "bias_ih_l0 [12] x12", "bias_hh_l0 [12] x12", "weight_ih_l1 [12, 3] x36", "weight_hh_l1 [12, 3] x36",
                "bias_ih_l1 [12] x12", "bias_hh_l1 [12] x12"), checked(CHECKER.check(c, cpu)));
    }

    @Test void lstmBidirectionalSequences() {
        Lstm lstm = new Lstm();
        GradientCase c = GradientCase.of(lstm, args(lstm, 3, "bidirectional", true), 2, Shape.of(4, 3));
        assertEquals(List.of("input 0 [2, 4, 3] x24", "weight_ih_l0 [12, 3] x36", "weight_hh_l0 [12, 3] x36",
                "bias_ih_l0 [12] x12", "bias_hh_l0 [12] x12", "weight_ih_l0_reverse [12, 3] x36",
                "weight_hh_l0_reverse [12, 3] x36", "bias_ih_l0_reverse [12] x12", "bias_hh_l0_reverse [12] x12"),
                checked(CHECKER.check(c, cpu)));
    }

    @Test void lstmTwoBidirectionalLayersFinalStateWithDropoutBetween() {
        // Dropout between the layers is drawn from the fixed step seed, so every pass of the check sees one mask.
        Lstm lstm = new Lstm();
        GradientCase c = GradientCase.of(lstm,
                args(lstm, 2, "layers", 2, "bidirectional", true, "sequences", false, "dropout", 0.3), 2, Shape.of(3, 2));
        GradientReport r = CHECKER.check(c, cpu);
        assertEquals(17, r.tensors().size());
        assertEquals("weight_ih_l1_reverse [8, 4] x32", checked(r).get(13));
    }

    @Test void lstmWithoutBiasOrInputGradient() {
        Lstm lstm = new Lstm();
        GradientCase c = GradientCase.of(lstm, args(lstm, 2, "bias", false, "layers", 2), 2, Shape.of(3, 3)).withoutInputGradient(0);
        assertEquals(List.of("weight_ih_l0 [8, 3] x24", "weight_hh_l0 [8, 2] x16", "weight_ih_l1 [8, 2] x16", "weight_hh_l1 [8, 2] x16"),
                checked(CHECKER.check(c, cpu)));
    }

    @Test void lstmSingleStep() {
        // T = 1: no step reads a previous state, so dW_hh is zero and must still be written.
        Lstm lstm = new Lstm();
        GradientCase c = GradientCase.of(lstm, args(lstm, 3), 2, Shape.of(1, 2));
        GradientReport r = CHECKER.check(c, cpu);
        assertEquals("weight_hh_l0 [12, 3] x36", checked(r).get(2));
        assertEquals(0, r.tensor("weight_hh_l0").worstAnalytic());
    }

    @Test void gruOneLayer() {
        Gru gru = new Gru();
        GradientCase c = GradientCase.of(gru, args(gru, 4), 2, Shape.of(5, 3));
        assertEquals(List.of("input 0 [2, 5, 3] x30", "weight_ih_l0 [12, 3] x36", "weight_hh_l0 [12, 4] x48",
                "bias_ih_l0 [12] x12", "bias_hh_l0 [12] x12"), checked(CHECKER.check(c, cpu)));
    }

    @Test void gruTwoLayers() {
        Gru gru = new Gru();
        GradientCase c = GradientCase.of(gru, args(gru, 3, "layers", 2), 2, Shape.of(4, 2));
        assertEquals(List.of("input 0 [2, 4, 2] x16", "weight_ih_l0 [9, 2] x18", "weight_hh_l0 [9, 3] x27",
                "bias_ih_l0 [9] x9", "bias_hh_l0 [9] x9", "weight_ih_l1 [9, 3] x27", "weight_hh_l1 [9, 3] x27",
                "bias_ih_l1 [9] x9", "bias_hh_l1 [9] x9"), checked(CHECKER.check(c, cpu)));
    }

    @Test void gruBidirectionalFinalStateWithoutBias() {
        Gru gru = new Gru();
        GradientCase c = GradientCase.of(gru, args(gru, 3, "bidirectional", true, "sequences", false, "bias", false), 2,
                Shape.of(4, 3));
        assertEquals(List.of("input 0 [2, 4, 3] x24", "weight_ih_l0 [9, 3] x27", "weight_hh_l0 [9, 3] x27",
                "weight_ih_l0_reverse [9, 3] x27", "weight_hh_l0_reverse [9, 3] x27"), checked(CHECKER.check(c, cpu)));
    }

    @Test void gruTwoBidirectionalLayersWithDropout() {
        Gru gru = new Gru();
        GradientCase c = GradientCase.of(gru, args(gru, 2, "layers", 2, "bidirectional", true, "dropout", 0.4), 3, Shape.of(3, 2));
        GradientReport r = CHECKER.check(c, cpu);
        assertEquals("input 0 [3, 3, 2] x18", checked(r).get(0));
        assertEquals(17, r.tensors().size());
    }

    @Test void recurrentLayersAtInference() {
        // Inference: dropout off; the gradient is that of the deterministic stack.
        Gru gru = new Gru();
        GradientCase c = GradientCase.of(gru, args(gru, 2, "layers", 2, "dropout", 0.5), 2, Shape.of(3, 2)).training(false);
        assertEquals(9, CHECKER.check(c, cpu).tensors().size());
    }
}
