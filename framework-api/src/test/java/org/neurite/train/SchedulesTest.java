package org.neurite.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.diag.SourceSpan;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;

/**
 * The learning rate of every epoch under each schedule, against the rates PyTorch's own
 * schedulers (StepLR, ExponentialLR, CosineAnnealingLR) give, stepped once per epoch
 * ({@code tools/fixtures/schedules/make_schedule_fixtures.py} wrote the fixture).
 */
class SchedulesTest {
    private static JsonNode fixture() throws IOException {
        try (InputStream in = SchedulesTest.class.getResourceAsStream("/fixtures/lr_schedules.json")) {
            if (in == null) throw new IllegalStateException("missing fixtures/lr_schedules.json; run tools/fixtures/schedules/make_schedule_fixtures.py");
            return new ObjectMapper().readTree(in);
        }
    }

    private static LayerArgs bind(String schedule, JsonNode args) {
        Map<String, Object> named = new LinkedHashMap<>();
        args.fields().forEachRemaining(e -> named.put(e.getKey(), e.getValue().isIntegralNumber() ? (Object) e.getValue().asInt()
                : (Object) e.getValue().asDouble()));
        return Schedules.schema(schedule).bind(List.of(), named);
    }

    private static TrainSpec spec(String schedule, LayerArgs args, double lr, int epochs) {
        OptimizerSpec sgd = new OptimizerSpec("sgd", Optimizers.schema("sgd").bind(List.of(), Map.of("lr", lr)), SourceSpan.UNKNOWN);
        return new TrainSpec("M", "fashion_mnist", LayerArgs.empty(), "softmax_cross_entropy", sgd,
                new ScheduleSpec(schedule, args, SourceSpan.UNKNOWN), 8, epochs, 1, 0, SourceSpan.UNKNOWN);
    }

    @Test
    void everyEpochsRateMatchesPyTorchsScheduler() throws IOException {
        JsonNode cases = fixture().get("cases");
        assertTrue(cases.size() >= 10, "fixture has " + cases.size() + " cases");
        List<String> seen = new ArrayList<>();
        for (JsonNode c : cases) {
            String name = c.get("case").asText();
            String schedule = c.get("schedule").asText();
            seen.add(schedule);
            LayerArgs args = bind(schedule, c.get("args"));
            double lr = c.get("lr").asDouble();
            int epochs = c.get("epochs").asInt();
            JsonNode rates = c.get("rates");
            assertEquals(epochs, rates.size(), name);
            TrainSpec spec = spec(schedule, args, lr, epochs);
            for (int e = 0; e < epochs; e++) {
                double expected = rates.get(e).asDouble();
                double actual = new ScheduleSpec(schedule, args, SourceSpan.UNKNOWN).learningRate(lr, e, epochs);
                assertEquals(expected, actual, 1e-12 * expected, name + " epoch " + e);
                // What the optimizer gets in the Trainer's epoch e + 1: the rate as a float.
                assertEquals((float) expected, spec.learningRate(e + 1), Math.ulp((float) expected), name + " epoch " + (e + 1) + " (from 1)");
            }
        }
        assertTrue(seen.containsAll(Schedules.NAMES), "every schedule has a case: " + seen);
    }

    @Test
    void aConstantScheduleGivesExactlyTheOptimizersFloatLearningRate() {
        TrainSpec defaults = TrainSpec.defaults("M");
        assertSame(ScheduleSpec.CONSTANT, defaults.schedule());
        assertEquals("constant", defaults.schedule().toString());
        for (int epoch = 1; epoch <= 7; epoch++) {
            assertEquals(defaults.optimizer().args().getFloat("lr"), defaults.learningRate(epoch), 0f);
        }
    }

    @Test
    void overridingTheEpochsStretchesACosineScheduleOverTheNewRun() {
        LayerArgs args = Schedules.schema("cosine").bind(List.of(), Map.of());
        TrainSpec ten = spec("cosine", args, 0.01, 10);
        TrainSpec twenty = ten.with(8, 20, 1);
        assertEquals(ten.schedule(), twenty.schedule());
        assertEquals(20, twenty.epochs());
        // Halfway is epoch 6 (schedule epoch 5) of ten and epoch 11 of twenty: lr / 2.
        assertEquals(0.005f, ten.learningRate(6), 1e-9f);
        assertEquals(0.005f, twenty.learningRate(11), 1e-9f);
        assertTrue(twenty.learningRate(6) > 0.008f, "a quarter into twenty epochs: " + twenty.learningRate(6));
        assertEquals("cosine(min_lr=0)", ten.schedule().toString());
    }

    @Test
    void canonicalTextHasTheBoundDefaults() {
        assertEquals("step(every=3, gamma=0.1)",
                new ScheduleSpec("step", Schedules.schema("step").bind(List.of(3), Map.of()), SourceSpan.UNKNOWN).toString());
        assertEquals("exponential(gamma=0.9)",
                new ScheduleSpec("exponential", Schedules.schema("exponential").bind(List.of(0.9), Map.of()), SourceSpan.UNKNOWN).toString());
    }

    @Test
    void checksRefuseANonPositiveGammaAndAMinimumAtOrAboveTheStartingRate() {
        for (double gamma : new double[] {0, -0.5, Double.NaN}) {
            LayerArgs args = new LayerArgs(Map.of("gamma", gamma));
            ArgumentException e = assertThrows(ArgumentException.class, () -> Schedules.check("exponential", args, 0.01));
            assertEquals("gamma", e.argument());
        }
        Schedules.check("exponential", new LayerArgs(Map.of("gamma", 1.2)), 0.01);   // growth is allowed, as in PyTorch
        LayerArgs high = Schedules.schema("cosine").bind(List.of(), Map.of("min_lr", 0.01));
        ArgumentException e = assertThrows(ArgumentException.class, () -> Schedules.check("cosine", high, 0.01));
        assertEquals("min_lr", e.argument());
        assertEquals("parameter 'min_lr' must be below the optimizer's lr 0.01 (where the schedule starts), got 0.01", e.getMessage());
        Schedules.check("cosine", Schedules.schema("cosine").bind(List.of(), Map.of("min_lr", 0.001)), 0.01);
        assertThrows(ArgumentException.class, () -> Schedules.schema("step").bind(List.of(0), Map.of()), "every >= 1");
        assertThrows(ArgumentException.class, () -> Schedules.schema("cosine").bind(List.of(-0.1), Map.of()), "min_lr >= 0");
        assertThrows(ArgumentException.class, () -> Schedules.schema("exponential").bind(List.of(), Map.of()), "gamma is required");
    }

    @Test
    void aWarmUpMustLeaveTheScheduleAnEpochAndIsLeftOutOfTheTextWhenZero() {
        LayerArgs two = Schedules.schema("step").bind(List.of(2), Map.of("warmup", 2));
        Schedules.check("step", two, 0.1, 3);
        ArgumentException e = assertThrows(ArgumentException.class, () -> Schedules.check("step", two, 0.1, 2));
        assertEquals("warmup", e.argument());
        assertEquals("step(every=2, gamma=0.1, warmup=2)", new ScheduleSpec("step", two, SourceSpan.UNKNOWN).toString());
        LayerArgs none = Schedules.schema("step").bind(List.of(2), Map.of());
        assertEquals("step(every=2, gamma=0.1)", new ScheduleSpec("step", none, SourceSpan.UNKNOWN).toString());
        // --epochs below the warm-up: the rate still climbs, then the schedule gets one epoch.
        assertEquals(0.15, Schedules.learningRate("cosine", Schedules.schema("cosine").bind(List.of(), Map.of("warmup", 3)), 0.2, 2, 2), 1e-15);
        assertEquals(0.2, Schedules.learningRate("cosine", Schedules.schema("cosine").bind(List.of(), Map.of("warmup", 3)), 0.2, 3, 2), 1e-15);
    }
}
