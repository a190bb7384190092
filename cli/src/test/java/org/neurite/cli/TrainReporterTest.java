package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.neurite.engine.Evaluation;

/** The epoch line's figures of an evaluated split: the core's loss and accuracy, then the metrics of plugins. */
class TrainReporterTest {

    private static Evaluation evaluation(double loss, double accuracy, Map<String, Double> metrics) {
        return new Evaluation(3, loss, accuracy, Double.NaN, new long[0], new long[0], new long[0], 100, 1.5, metrics);
    }

    @Test void pluginMetricsFollowLossAndAccuracy() {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("accuracy", 0.851);
        metrics.put("macro_f1", 0.84213);
        metrics.put("kappa", 0.8);
        assertEquals("test loss 0.4321  test acc  85.10%  test macro_f1 0.8421  test kappa 0.8000",
                TrainReporter.figures("test", evaluation(0.43214, 0.851, metrics), true));
    }

    @Test void regressionShowsItsLossAndItsMetrics() {
        assertEquals("val loss 0.43210", TrainReporter.figures("val", evaluation(0.4321, Double.NaN, Map.of()), false));
        assertEquals("val loss 0.43210  val mae 0.1200",
                TrainReporter.figures("val", evaluation(0.4321, Double.NaN, Map.of("mae", 0.12)), false));
    }
}
