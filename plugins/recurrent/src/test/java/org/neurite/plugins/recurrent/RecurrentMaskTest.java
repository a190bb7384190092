package org.neurite.plugins.recurrent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/**
 * Variable-length sequences: {@code mask_zero=true} on rnn, lstm and gru, and the embedding's
 * {@code padding_idx}. Back-propagation through time against central differences with mixed
 * lengths in one batch (always a full-length and a length-1 sample), and the meaning of the mask
 * checked against the layer itself: a padded sample gives what its unpadded prefix gives alone.
 * (Values against PyTorch's {@code pack_padded_sequence} are in {@link PyTorchParityTest}.)
 */
class RecurrentMaskTest {
    private static final PaddedSequenceGradientCheck CHECK = new PaddedSequenceGradientCheck(1e-2, 1e-2, 0x5EED_0BB7L);
    /** For relu, whose kink a 1e-2 step can cross. */
    private static final PaddedSequenceGradientCheck FINE_CHECK = new PaddedSequenceGradientCheck(1e-3, 1e-2, 0x5EED_0BB7L);
    private static final int[][] NO_ZERO_ROWS = {};
    private static Backend cpu;

    @BeforeAll static void startBackend() { cpu = new CpuBackendProvider().create(BackendOptions.defaults()); }

    @AfterAll static void closeBackend() { cpu.close(); }

    /** {@code type(hidden, mask_zero=true, name=value...)}. */
    private static LayerArgs masked(LayerType type, int hidden, Object... named) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("mask_zero", true);
        for (int i = 0; i < named.length; i += 2) map.put((String) named[i], named[i + 1]);
        return type.schema().bind(List.of(hidden), map);
    }

    // ---- gradients -------------------------------------------------------------------------

    @Test void rnnTanhSequences() {
        Rnn rnn = new Rnn();
        assertEquals(List.of("input 0 [3, 5, 2] x18", "weight_ih_l0 [3, 2] x6", "weight_hh_l0 [3, 3] x9", "bias_ih_l0 [3] x3",
                "bias_hh_l0 [3] x3"), CHECK.check(rnn, masked(rnn, 3), Shape.of(5, 2), new int[] {5, 1, 3}, NO_ZERO_ROWS, cpu));
    }

    @Test void rnnReluTwoBidirectionalLayersFinalState() {
        Rnn rnn = new Rnn();
        List<String> checked = FINE_CHECK.check(rnn, masked(rnn, 3, "nonlinearity", "relu", "layers", 2, "bidirectional", true,
                "sequences", false), Shape.of(4, 2), new int[] {2, 4, 1}, NO_ZERO_ROWS, cpu);
        assertEquals(17, checked.size());
        assertEquals("input 0 [3, 4, 2] x14", checked.get(0));
    }

    @Test void lstmFinalStateIsTheStateAtEachSamplesLastStep() {
        Lstm lstm = new Lstm();
        assertEquals(List.of("input 0 [3, 5, 2] x18", "weight_ih_l0 [12, 2] x24", "weight_hh_l0 [12, 3] x36",
                "bias_ih_l0 [12] x12", "bias_hh_l0 [12] x12"),
                CHECK.check(lstm, masked(lstm, 3, "sequences", false), Shape.of(5, 2), new int[] {5, 1, 3}, NO_ZERO_ROWS, cpu));
    }

    @Test void lstmTwoBidirectionalLayersSequencesWithAZeroRowInside() {
        // Sample 2's step 1 is all zero but not its last row: it is a valid step, and its gradient is checked.
        Lstm lstm = new Lstm();
        List<String> checked = CHECK.check(lstm, masked(lstm, 2, "layers", 2, "bidirectional", true), Shape.of(4, 2),
                new int[] {1, 4, 3}, new int[][] {{2, 1}}, cpu);
        assertEquals(17, checked.size());
        assertEquals("input 0 [3, 4, 2] x16", checked.get(0));
        assertEquals("weight_hh_l1_reverse [8, 2] x16", checked.get(14));
    }

    @Test void lstmTwoBidirectionalLayersFinalState() {
        Lstm lstm = new Lstm();
        List<String> checked = CHECK.check(lstm, masked(lstm, 2, "layers", 2, "bidirectional", true, "sequences", false),
                Shape.of(4, 3), new int[] {4, 2, 1}, NO_ZERO_ROWS, cpu);
        assertEquals("input 0 [3, 4, 3] x21", checked.get(0));
        assertEquals(17, checked.size());
    }

    @Test void gruBidirectionalFinalState() {
        Gru gru = new Gru();
        assertEquals(List.of("input 0 [3, 5, 2] x18", "weight_ih_l0 [9, 2] x18", "weight_hh_l0 [9, 3] x27", "bias_ih_l0 [9] x9",
                "bias_hh_l0 [9] x9", "weight_ih_l0_reverse [9, 2] x18", "weight_hh_l0_reverse [9, 3] x27",
                "bias_ih_l0_reverse [9] x9", "bias_hh_l0_reverse [9] x9"),
                CHECK.check(gru, masked(gru, 3, "bidirectional", true, "sequences", false), Shape.of(5, 2), new int[] {3, 1, 5},
                        NO_ZERO_ROWS, cpu));
    }

    @Test void gruTwoLayersSequencesWithAnEmptySample() {
        // Sample 2 has length 0: every gradient it sends is zero, and the check still covers the others.
        Gru gru = new Gru();
        List<String> checked = CHECK.check(gru, masked(gru, 3, "layers", 2), Shape.of(4, 2), new int[] {4, 1, 0, 3},
                new int[][] {{0, 0}}, cpu);
        assertEquals(List.of("input 0 [4, 4, 2] x16", "weight_ih_l0 [9, 2] x18", "weight_hh_l0 [9, 3] x27", "bias_ih_l0 [9] x9",
                "bias_hh_l0 [9] x9", "weight_ih_l1 [9, 3] x27", "weight_hh_l1 [9, 3] x27", "bias_ih_l1 [9] x9", "bias_hh_l1 [9] x9"),
                checked);
    }

    @Test void gruTwoBidirectionalLayersSequences() {
        Gru gru = new Gru();
        List<String> checked = CHECK.check(gru, masked(gru, 2, "layers", 2, "bidirectional", true), Shape.of(3, 2),
                new int[] {3, 1, 2}, NO_ZERO_ROWS, cpu);
        assertEquals(17, checked.size());
    }

    // ---- what the mask means ---------------------------------------------------------------

    @Test void aPaddedSampleGivesWhatItsPrefixGivesAlone() {
        // Per sample of a padded batch, the same layer without a mask run on just the first `length`
        // steps: its outputs must be the padded run's first `length` rows (zeros after), its final
        // state the padded run's final state. Both directions, two layers, every cell.
        int time = 5;
        int features = 2;
        int[] lengths = {5, 1, 3, 4};
        for (RecurrentLayer<?> type : List.of(new Rnn(), new Lstm(), new Gru())) {
            for (boolean sequences : new boolean[] {true, false}) {
                Map<String, Object> common = Map.of("layers", 2, "bidirectional", true, "sequences", sequences);
                LayerArgs maskedArgs = withMask(type, common, true);
                SplittableRandom rng = new SplittableRandom(5);
                float[] x = new float[lengths.length * time * features];
                for (int b = 0; b < lengths.length; b++) {
                    for (int i = 0; i < lengths[b] * features; i++) x[b * time * features + i] = (float) (rng.nextDouble() * 2 - 1);
                }
                try (LayerHarness padded = LayerHarness.compile(type, maskedArgs, lengths.length, cpu, Shape.of(time, features))) {
                    Map<String, float[]> params = new LinkedHashMap<>();
                    for (ParamDecl d : padded.parameters()) {
                        float[] v = new float[d.shape().size()];
                        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextDouble() - 0.5);
                        padded.setParam(d.name(), v);
                        params.put(d.name(), v);
                    }
                    padded.setInput(0, x);
                    float[] y = padded.forward();
                    int width = 2 * 3;
                    for (int b = 0; b < lengths.length; b++) {
                        int length = lengths[b];
                        float[] alone = runAlone(type, withMask(type, common, false), params,
                                Arrays.copyOfRange(x, b * time * features, (b * time + length) * features), length, features);
                        String what = type.name() + " sequences=" + sequences + " sample " + b + " (length " + length + ")";
                        if (sequences) {
                            float[] expected = new float[time * width];
                            System.arraycopy(alone, 0, expected, 0, alone.length);
                            assertArrayEquals(expected, Arrays.copyOfRange(y, b * time * width, (b + 1) * time * width), 1e-6f, what);
                        } else {
                            assertArrayEquals(alone, Arrays.copyOfRange(y, b * width, (b + 1) * width), 1e-6f, what);
                        }
                    }
                }
            }
        }
    }

    private static LayerArgs withMask(LayerType type, Map<String, Object> common, boolean mask) {
        Map<String, Object> named = new LinkedHashMap<>(common);
        named.put("mask_zero", mask);
        return type.schema().bind(List.of(3), named);
    }

    /** One sample of {@code length} steps through an unmasked layer with the given parameters. */
    private static float[] runAlone(LayerType type, LayerArgs args, Map<String, float[]> params, float[] x, int length, int features) {
        try (LayerHarness h = LayerHarness.compile(type, args, 1, cpu, Shape.of(length, features))) {
            params.forEach(h::setParam);
            h.setInput(0, x);
            return h.forward();
        }
    }

    @Test void anEmptySampleGivesZerosAndTheMaskFollowsEachBatch() {
        // The same compiled layer sees two batches with different lengths: the masks are rebuilt
        // for the second. Sample 1 of the second batch is all zero (length 0): zero output and state.
        Lstm lstm = new Lstm();
        int time = 3;
        try (LayerHarness h = LayerHarness.compile(lstm, masked(lstm, 2, "bidirectional", true), 2, cpu, Shape.of(time, 1))) {
            for (ParamDecl d : h.parameters()) {
                float[] v = new float[d.shape().size()];
                for (int i = 0; i < v.length; i++) v[i] = 0.1f * ((i % 7) - 3);
                h.setParam(d.name(), v);
            }
            h.setInput(0, new float[] {0.5f, -1f, 0.25f, /* sample 1 */ 1f, 0f, 0f});
            float[] first = h.forward();
            for (int i = 0; i < 4; i++) assertTrue(first[time * 4 + i] != 0f, "sample 1's step 0 is valid in the first batch");
            h.setInput(0, new float[] {0.5f, -1f, 0.25f, /* sample 1 */ 0f, 0f, 0f});
            float[] second = h.forward();
            assertArrayEquals(Arrays.copyOf(first, time * 4), Arrays.copyOf(second, time * 4), "sample 0 is unchanged");
            assertArrayEquals(new float[time * 4], Arrays.copyOfRange(second, time * 4, 2 * time * 4), "length 0: zero outputs");
            float[] dy = new float[2 * time * 4];
            Arrays.fill(dy, 1f);
            h.backward(dy);
            float[] dx = h.gradInput(0);
            assertArrayEquals(new float[time], Arrays.copyOfRange(dx, time, 2 * time), "length 0: no input gradient");
        }
        try (LayerHarness h = LayerHarness.compile(lstm, masked(lstm, 2, "sequences", false), 2, cpu, Shape.of(time, 1))) {
            for (ParamDecl d : h.parameters()) {
                float[] v = new float[d.shape().size()];
                Arrays.fill(v, 0.3f);
                h.setParam(d.name(), v);
            }
            h.setInput(0, new float[] {0.5f, -1f, 0.25f, 0f, 0f, 0f});
            float[] y = h.forward();
            assertTrue(y[0] != 0f && y[1] != 0f);
            assertArrayEquals(new float[] {0f, 0f}, Arrays.copyOfRange(y, 2, 4), "length 0: the zero initial state");
        }
    }

    // ---- embedding padding_idx -------------------------------------------------------------

    @Test void paddingRowStartsAtZeroAndNeverLearns() {
        Embedding embedding = new Embedding();
        LayerArgs args = embedding.schema().bind(List.of(4, 2), Map.of("padding_idx", 0));
        ParamDecl weight = embedding.parameters(args, List.of(Shape.of(3))).get(0);
        float[] initial = new float[8];
        weight.initializer().initialize(initial, weight.shape(), new SplittableRandom(3));
        assertArrayEquals(new float[] {0f, 0f}, Arrays.copyOf(initial, 2), "the padding row starts at zero");
        for (int i = 2; i < 8; i++) assertTrue(initial[i] != 0f, "other rows are N(0, 1) draws");
        try (LayerHarness h = LayerHarness.compile(embedding, args, 1, cpu, Shape.of(3))) {
            h.setParam("weight", initial);
            h.setInput(0, new float[] {2, 0, 0});   // a token, then padding twice
            float[] y = h.forward();
            assertArrayEquals(new float[] {initial[4], initial[5], 0f, 0f, 0f, 0f}, y, "padding embeds as zero rows");
            h.backward(new float[] {1, 2, 3, 4, 5, 6});
            assertArrayEquals(new float[] {0f, 0f, 0f, 0f, 1f, 2f, 0f, 0f}, h.gradParam("weight"), "the padding row gets no gradient");
        }
    }

    @Test void paddingIndexMustBeARow() {
        Embedding embedding = new Embedding();
        LayerArgs args = embedding.schema().bind(List.of(4, 2), Map.of("padding_idx", 4));
        ArgumentException e = assertThrows(ArgumentException.class, () -> embedding.outputShape(args, List.of(Shape.of(3))));
        assertEquals("parameter 'padding_idx' must be below num = 4, got 4", e.getMessage());
    }
}
