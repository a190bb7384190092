package org.neurite.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The core's accuracy against rows worked by hand, and which way a record key improves. */
class MetricsTest {
    private static final Metric ACCURACY = Metrics.CORE.get(0);

    @Test void accuracyCountsArgMaxHitsOverEveryBatchWithTiesToTheLowerClass() {
        Metric.Tally tally = ACCURACY.start();
        // Rows of three classes: arg-max 2 (label 2, hit), 0 (label 1, miss), a tie of 0 and 1 (label 0, hit).
        tally.add(new float[] {0.1f, 0.2f, 0.7f, 3, 1, 2, 5, 5, 1}, new float[] {2, 1, 0}, 3, 3);
        assertEquals(2.0 / 3, tally.value(), 1e-15);
        tally.add(new float[] {0, 1, 0}, new float[] {0}, 1, 3);            // a second batch: a miss
        assertEquals(2.0 / 4, tally.value(), 1e-15);
        assertTrue(Double.isNaN(ACCURACY.start().value()), "no rows: undefined");
        assertEquals("accuracy", ACCURACY.name());
        assertTrue(ACCURACY.classification() && ACCURACY.higherIsBetter());
    }

    /** A regression metric that improves downwards. */
    private record Error(String name) implements Metric {
        @Override public boolean classification() { return false; }

        @Override public boolean higherIsBetter() { return false; }

        @Override public Tally start() { throw new UnsupportedOperationException("not measured here"); }
    }

    @Test void aLossImprovesDownwardsAMetricAsItDeclaresAndAnythingElseUpwards() {
        List<Metric> metrics = List.of(ACCURACY, new Error("mae"));
        assertTrue(Metrics.lowerIsBetter("val_loss", metrics));
        assertTrue(Metrics.lowerIsBetter("test_loss", List.of()));
        assertTrue(Metrics.lowerIsBetter("val_mae", metrics));
        assertFalse(Metrics.lowerIsBetter("val_accuracy", metrics));
        assertFalse(Metrics.lowerIsBetter("val_mae", List.of(ACCURACY)), "an unknown key is taken to improve upwards");
    }
}
