package org.neurite.train;

import static org.neurite.layer.ParamSpec.optional;
import static org.neurite.layer.ParamSpec.required;

import java.util.List;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;

/**
 * How a run chooses among its epochs, from data it does not train on and never from the test
 * split (which is only reported): a validation split held out from the training data
 * ({@code validation = 0.1}), early stopping on one of its metrics
 * ({@code early_stopping = patience(3, metric="val_loss")}, Keras's {@code EarlyStopping}) and
 * which epoch's weights the run keeps ({@code keep = best(metric="val_accuracy")}, Keras's
 * {@code ModelCheckpoint(save_best_only=True)}; {@code keep = last} is the default).
 *
 * @param fraction of the training split held out (a seeded random choice) and evaluated after
 *     every epoch; 0 for none
 * @param earlyStopping when to end the run early; null to run every epoch
 * @param keepBest the metric ({@code val_loss} or {@code val_<metric>}) whose best epoch's weights the run keeps in
 *     {@code model.safetensors}; null to keep the last epoch's
 */
public record ValidationSpec(double fraction, Patience earlyStopping, String keepBest) {
    /** No validation split: every epoch runs, the last epoch's weights are kept. */
    public static final ValidationSpec NONE = new ValidationSpec(0, null, null);

    /**
     * The metrics a choice can watch with the core's metrics alone: the validation split's mean
     * loss and accuracy after each epoch. A plugin's {@link Metric} adds {@code val_<name>}.
     */
    public static final List<String> METRICS = List.of("val_loss", "val_accuracy");

    /** What {@code keep} can name: {@code last} (no arguments) or {@code best(metric=...)}. */
    public static final List<String> KEEP = List.of("last", "best");

    /** What {@code early_stopping} can name. */
    public static final List<String> EARLY_STOPPING = List.of("patience");

    public ValidationSpec {
        if (!(fraction >= 0 && fraction < 1)) throw new IllegalArgumentException("validation is a fraction in [0, 1), got " + fraction);
        if (keepBest != null) checkMetric(keepBest);
    }

    /**
     * {@code patience(3, metric="val_loss", min_delta=0)}: the run ends once {@code metric} has
     * not improved by more than {@code minDelta} for {@code patience} epochs in a row.
     */
    public record Patience(int patience, String metric, double minDelta) {
        public Patience {
            if (patience < 1) throw new IllegalArgumentException("patience is at least 1 epoch, got " + patience);
            checkMetric(metric);
            if (!(minDelta >= 0)) throw new IllegalArgumentException("min_delta is at least 0, got " + minDelta);
        }

        /** From arguments bound to {@link #patienceSchema()}. */
        public static Patience of(LayerArgs args) {
            return new Patience(args.getInt("patience"), args.getString("metric"), args.getDouble("min_delta"));
        }
    }

    /** Whether a choice is made at all: a validation split is held out. */
    public boolean enabled() { return fraction > 0; }

    /** The arguments of {@code early_stopping = patience(...)}. */
    public static ParamSchema patienceSchema() {
        return ParamSchema.of(
                required("patience", ParamType.INT, "epochs without improvement before the run ends").range(1, Double.POSITIVE_INFINITY),
                optional("metric", ParamType.STRING, "val_loss",
                        "what is watched: val_loss, val_accuracy, or val_<name> of a plugin's metric"),
                optional("min_delta", ParamType.FLOAT, 0.0, "a change of at most this much is no improvement")
                        .range(0, Double.POSITIVE_INFINITY));
    }

    /** The arguments of {@code keep = best(...)}; {@code keep = last} takes none. */
    public static ParamSchema keepSchema(String name) {
        return switch (name) {
            case "last" -> ParamSchema.empty();
            case "best" -> ParamSchema.of(optional("metric", ParamType.STRING, "val_loss",
                    "what is compared: val_loss, val_accuracy, or val_<name> of a plugin's metric"));
            default -> null;
        };
    }

    /**
     * Whether {@code metric} improves by going down (a loss) rather than up (an accuracy); for a
     * plugin's metric, {@link Metrics#lowerIsBetter} asks the metric.
     */
    public static boolean lowerIsBetter(String metric) {
        return metric.endsWith("loss");
    }

    /**
     * Refuses what cannot be a metric of the validation split: anything but {@code val_loss} and
     * {@code val_<name>}. Which names exist depends on the metrics registered; the script checker
     * checks those ({@link #checkMetric(String, List)}).
     *
     * @throws ArgumentException on argument {@code metric} (position -1), listing the core's metrics
     */
    public static String checkMetric(String metric) {
        if (!metric.matches("val_[a-z][a-z0-9_]*")) checkMetric(metric, METRICS);
        return metric;
    }

    /**
     * Refuses a metric outside {@code watchable}.
     *
     * @param watchable {@code val_loss} and {@code val_<name>} for every metric the run records
     * @throws ArgumentException on argument {@code metric} (position -1), listing {@code watchable}
     */
    public static String checkMetric(String metric, List<String> watchable) {
        if (!watchable.contains(metric)) {
            throw new ArgumentException("metric", -1, "parameter 'metric' must be one of " + String.join(", ", watchable)
                    + " (the validation split's), got '" + metric + "'");
        }
        return metric;
    }
}
