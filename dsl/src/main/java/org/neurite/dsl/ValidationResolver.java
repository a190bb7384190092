package org.neurite.dsl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.neurite.diag.ModelException;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.Setting;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.train.DataSources;
import org.neurite.train.Metric;
import org.neurite.train.ValidationSpec;

/**
 * Resolves the train settings that choose among epochs into a {@link ValidationSpec}:
 * {@code validation = 0.1} (a fraction of the training split, strictly between 0 and 1),
 * {@code early_stopping = patience(3, metric="val_loss", min_delta=0)} and
 * {@code keep = last | best(metric="val_accuracy")}. Each is checked against the others and the
 * loss once the whole section is read: watching a metric needs a validation split, and the
 * metric must be one the run records, of the loss's kind ({@code val_accuracy} needs a classifier). Errors point at the value (or argument) at fault.
 */
final class ValidationResolver {
    private ValidationResolver() {}

    /**
     * @param settings the section's settings by key, as written
     * @param classification whether the section's loss scores classes (so accuracy exists)
     * @param metrics the metrics registered, by name: those of the loss's kind are recorded, so can be watched
     */
    static ValidationSpec resolve(Map<String, Setting> settings, boolean classification, Map<String, Metric> metrics,
                                  ExpressionEvaluator constants) {
        Setting validation = settings.get("validation");
        Setting early = settings.get("early_stopping");
        Setting keep = settings.get("keep");
        double fraction = validation == null ? 0 : fraction(validation, constants);
        ValidationSpec.Patience patience = early == null ? null : patience(early, constants, fraction, classification, metrics);
        String keepBest = keep == null ? null : keepBest(keep, constants, fraction, classification, metrics);
        return new ValidationSpec(fraction, patience, keepBest);
    }

    /**
     * Refuses the name {@code images} and {@code csv} used to give their test hold-out, which now
     * reads {@code test_fraction}, saying which setting means what.
     */
    static void refuseOldTestFraction(Call data) {
        if (DataSources.schema(data.name()) == null || DataSources.schema(data.name()).find(DataSources.TEST_FRACTION) == null) return;
        for (Argument a : data.arguments()) {
            if ("validation".equals(a.name())) {
                throw new ModelException(a.nameSpan(), data.name() + ": the fraction held out as the test split is called "
                        + DataSources.TEST_FRACTION + "; a validation split (to choose epochs by) is the train setting validation = 0.1");
            }
        }
    }

    private static double fraction(Setting s, ExpressionEvaluator constants) {
        Object v = constants.evaluate(s.value());
        if (!(v instanceof Number n)) {
            throw new ModelException(s.value().span(), "validation expects a fraction of the training split such as 0.1, got "
                    + ExpressionEvaluator.kind(v));
        }
        double d = n.doubleValue();
        if (!(d > 0 && d < 1)) {
            throw new ModelException(s.value().span(), "validation must be a fraction of the training split between 0 and 1 "
                    + "(exclusive), got " + v);
        }
        return d;
    }

    private static ValidationSpec.Patience patience(Setting s, ExpressionEvaluator constants, double fraction, boolean classification,
                                                    Map<String, Metric> metrics) {
        Call call = call(s, "early_stopping expects a rule such as patience(3, metric=\"val_loss\")");
        if (!ValidationSpec.EARLY_STOPPING.contains(call.name())) {
            throw new ModelException(call.nameSpan(), "unknown early stopping rule '" + call.name() + "'"
                    + suggestion(call.name(), ValidationSpec.EARLY_STOPPING, "early stopping rules"));
        }
        ParamSchema schema = ValidationSpec.patienceSchema();
        LayerArgs args = CallBinder.bind(call, call.arguments(), schema, constants);
        checkMetric(call, schema, args.getString("metric"), classification, metrics);
        needsValidation(s, fraction, "early_stopping watches " + args.getString("metric"));
        return ValidationSpec.Patience.of(args);
    }

    private static String keepBest(Setting s, ExpressionEvaluator constants, double fraction, boolean classification,
                                   Map<String, Metric> metrics) {
        Call call = call(s, "keep expects last or best(metric=\"val_loss\")");
        ParamSchema schema = ValidationSpec.keepSchema(call.name());
        if (schema == null) {
            throw new ModelException(call.nameSpan(), "keep is last or best(metric=...), not '" + call.name() + "'"
                    + suggestion(call.name(), ValidationSpec.KEEP, "choices"));
        }
        LayerArgs args = CallBinder.bind(call, call.arguments(), schema, constants);
        if (call.name().equals("last")) return null;
        checkMetric(call, schema, args.getString("metric"), classification, metrics);
        needsValidation(s, fraction, "keep = best compares " + args.getString("metric"));
        return args.getString("metric");
    }

    /**
     * A metric of the validation split that the run records: {@code val_loss}, or {@code val_<name>}
     * of a registered metric of the loss's kind ({@code val_accuracy} only for a classifier).
     */
    private static void checkMetric(Call call, ParamSchema schema, String metric, boolean classification, Map<String, Metric> metrics) {
        try {
            List<String> watchable = new ArrayList<>();
            watchable.add("val_loss");
            for (Metric m : metrics.values()) watchable.add("val_" + m.name());
            ValidationSpec.checkMetric(metric, watchable);
            Metric watched = metrics.get(metric.substring("val_".length()));
            if (watched != null && watched.classification() != classification) {
                throw new ArgumentException("metric", -1, "parameter 'metric' is " + metric + ", but a "
                        + (classification ? "classification" : "regression") + " loss has no " + watched.name() + "; watch val_loss");
            }
        } catch (ArgumentException e) {
            throw CallBinder.error(call, call.arguments(), schema, e);
        }
    }

    private static void needsValidation(Setting s, double fraction, String what) {
        if (fraction == 0) {
            throw new ModelException(s.keySpan(), what + ", which needs a validation split: add validation = 0.1 (the fraction of "
                    + "the training split held out); the test split is never used to choose");
        }
    }

    /** A call, or a bare name read as a call without arguments ({@code last}). */
    private static Call call(Setting s, String expected) {
        if (s.value() instanceof Call c) return c;
        if (s.value() instanceof Expr.Name n) return new Call(n.name(), n.span(), List.of(), false, n.span());
        throw new ModelException(s.value().span(), expected);
    }

    /** "; did you mean 'x'?" when something is close, else " (what: a, b)". */
    private static String suggestion(String word, List<String> known, String what) {
        List<String> close = LayerRegistry.closest(word, known);
        return close.isEmpty() ? " (" + what + ": " + String.join(", ", known) + ")" : "; did you mean '" + close.get(0) + "'?";
    }
}
