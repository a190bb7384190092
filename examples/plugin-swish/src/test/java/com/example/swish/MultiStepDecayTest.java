package com.example.swish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.train.Schedules;

/**
 * The schedule against PyTorch's {@code MultiStepLR(optimizer(lr=0.1), milestones=[2, 5], gamma=0.5)}
 * worked by hand: {@code lr_e = 0.1 · 0.5^(milestones ≤ e)}.
 */
class MultiStepDecayTest {
    private final MultiStepDecay schedule = new MultiStepDecay();
    private final ParamSchema schema = Schedules.withWarmup(schedule.schema());

    @Test void ratesDropByGammaAtEachMilestone() {
        LayerArgs args = schema.bind(List.of(new int[] {2, 5}), Map.of("gamma", 0.5));
        double[] expected = {0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
        for (int e = 0; e < expected.length; e++) {
            assertEquals(expected[e], Schedules.learningRate(schedule, args, 0.1, e, 7), 1e-15, "epoch " + e);
        }
    }

    @Test void aWarmUpRunsFirstAndTheMilestonesCountFromItsEnd() {
        LayerArgs args = schema.bind(List.of(new int[] {2, 5}), Map.of("gamma", 0.5, "warmup", 1));
        // Warm-up epoch 0: lr·1/2; then the schedule's epochs 0, 1, 2 at the run's epochs 1, 2, 3.
        double[] expected = {0.05, 0.1, 0.1, 0.05};
        for (int e = 0; e < expected.length; e++) {
            assertEquals(expected[e], Schedules.learningRate(schedule, args, 0.1, e, 8), 1e-15, "epoch " + e);
        }
    }

    @Test void milestonesMustIncreaseFromOne() {
        for (int[] bad : new int[][] {{3, 3}, {4, 2}, {0, 2}, {}}) {
            LayerArgs args = schema.bind(List.of(bad), Map.of());
            ArgumentException e = assertThrows(ArgumentException.class, () -> schedule.check(args, 0.1));
            assertEquals("milestones", e.argument());
        }
        schedule.check(schema.bind(List.of(new int[] {1, 4}), Map.of()), 0.1);
    }
}
