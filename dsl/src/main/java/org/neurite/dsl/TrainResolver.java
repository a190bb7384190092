package org.neurite.dsl;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.neurite.diag.ModelException;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.Setting;
import org.neurite.dsl.ast.TrainDecl;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;
import org.neurite.train.AugmentSpec;
import org.neurite.train.Augmentations;
import org.neurite.train.LearningRateSchedule;
import org.neurite.train.OptimizerSpec;
import org.neurite.train.Optimizers;
import org.neurite.train.ScheduleSpec;
import org.neurite.train.Schedules;
import org.neurite.train.TrainSpec;
import org.neurite.train.ValidationSpec;

/**
 * Resolves {@code train Model { ... }} into a {@link TrainSpec}. Settings not written keep the
 * values of {@link TrainSpec#defaults}. Names are checked against the loader's
 * {@link TrainVocabulary} (the runtime's registries, or the core's): {@code data} takes an
 * identifier, a string or a data source's call bound with its schema and check; {@code loss} a
 * name (or a string) or a call bound with the loss's schema; {@code optimizer} a call or bare name
 * bound with its schema ({@link Optimizers#schema} for the core's); {@code schedule} likewise with
 * its schema plus {@code warmup} ({@link Schedules#withWarmup}; and {@link Schedules#check} against
 * the optimizer's lr once the whole section is read); {@code batch}, {@code epochs} and
 * {@code seed} integer expressions, {@code validation}, {@code early_stopping} and {@code keep}
 * through {@link ValidationResolver}, {@code augment} a list of calls bound with
 * {@link Augmentations#schema} and checked against the model's input [C, H, W]. Unknown settings,
 * losses, optimizers, schedules and augmentations get a did-you-mean.
 */
final class TrainResolver {
    private static final ExpressionEvaluator CONSTANTS = new ExpressionEvaluator(n -> {
        throw new ModelException(n.span(), "undefined name '" + n.name() + "'; train settings take numbers here");
    });

    /** Inside {@code flip(...)}: a bare name is its own spelling ({@code horizontal}), checked by {@link Augmentations#check}. */
    private static final ExpressionEvaluator DIRECTION_NAMES = new ExpressionEvaluator(Expr.Name::name);

    private TrainResolver() {}

    static TrainSpec resolve(TrainDecl decl, Collection<String> models) {
        return resolve(decl, models, Map.of());
    }

    /**
     * @param inputs the shape of each model's (first) input, which {@code augment} is checked
     *     against; a model missing here (it did not resolve) has its augmentations bound but not checked
     */
    static TrainSpec resolve(TrainDecl decl, Collection<String> models, Map<String, Shape> inputs) {
        return resolve(decl, models, inputs, TrainVocabulary.core());
    }

    /** @param vocabulary what the section's settings may name: losses, optimizers, schedules, metrics, data sources */
    static TrainSpec resolve(TrainDecl decl, Collection<String> models, Map<String, Shape> inputs, TrainVocabulary vocabulary) {
        if (!models.contains(decl.model())) {
            throw new ModelException(decl.modelSpan(), "train section for unknown model '" + decl.model() + "'"
                    + suggestion(decl.model(), models));
        }
        TrainSpec spec = TrainSpec.defaults(decl.model());
        String data = spec.data();
        LayerArgs dataArgs = spec.dataArgs();
        String loss = spec.loss();
        LayerArgs lossArgs = spec.lossArgs();
        OptimizerSpec optimizer = spec.optimizer();
        ScheduleSpec schedule = spec.schedule();
        Call scheduleCall = null;
        int batch = spec.batch();
        int epochs = spec.epochs();
        long seed = spec.seed();
        double clip = spec.clipNorm();
        List<AugmentSpec> augment = spec.augment();
        Map<String, Setting> seen = new HashMap<>();
        for (Setting s : decl.settings()) {
            Setting first = seen.putIfAbsent(s.key(), s);
            if (first != null) {
                throw Duplicates.error(s.keySpan(), "setting '" + s.key() + "' given twice", first.keySpan(),
                        "first given here");
            }
            switch (s.key()) {
                case "data" -> {
                    if (s.value() instanceof Call call) {
                        ParamSchema schema = vocabulary.dataSources().get(call.name());
                        if (schema == null) {
                            throw new ModelException(call.nameSpan(), "unknown data source '" + call.name() + "'"
                                    + orList(call.name(), vocabulary.dataSourceNames(), "data sources"));
                        }
                        data = call.name();
                        ValidationResolver.refuseOldTestFraction(call);
                        dataArgs = CallBinder.bind(call, call.arguments(), schema, CONSTANTS);
                        try {
                            vocabulary.dataCheck().check(call.name(), dataArgs);
                        } catch (ArgumentException ex) {
                            throw CallBinder.error(call, call.arguments(), schema, ex);
                        }
                    } else {
                        data = word(s, "a dataset name, a folder path in quotes, or a source such as adding(length=100)");
                        ParamSchema schema = vocabulary.dataSources().get(data);
                        dataArgs = schema == null ? LayerArgs.empty()
                                : CallBinder.bind(new Call(data, s.value().span(), List.of(), false, s.value().span()),
                                        List.of(), schema, CONSTANTS);
                    }
                }
                case "loss" -> {
                    Call call = loss(s, vocabulary);
                    loss = call.name();
                    lossArgs = CallBinder.bind(call, call.arguments(), vocabulary.losses().get(loss).schema(), CONSTANTS);
                }
                case "optimizer" -> optimizer = optimizer(s, vocabulary);
                case "schedule" -> {
                    scheduleCall = call(s, "schedule expects a name or a call such as step(every=3, gamma=0.1)");
                    schedule = schedule(scheduleCall, vocabulary);
                }
                case "batch" -> batch = (int) integer(s, 1, Integer.MAX_VALUE);
                case "epochs" -> epochs = (int) integer(s, 1, Integer.MAX_VALUE);
                case "seed" -> seed = integer(s, Long.MIN_VALUE, Long.MAX_VALUE);
                case "clip" -> clip = positive(s);
                case "augment" -> augment = augment(s, inputs.get(decl.model()));
                case "validation", "early_stopping", "keep" -> { }   // ValidationResolver, once the loss is known
                default -> throw new ModelException(s.keySpan(), "unknown train setting '" + s.key() + "'"
                        + orList(s.key(), TrainSpec.SETTINGS, "settings"));
            }
        }
        if (scheduleCall != null) check(scheduleCall, schedule, optimizer.args().getDouble("lr"), epochs);
        // Only a loss that scores classes has a classifier's metrics (accuracy) to watch. The default
        // loss, softmax cross-entropy, is one even where the vocabulary lacks it (a runtime without the core's).
        TrainVocabulary.LossEntry lossEntry = vocabulary.losses().get(loss);
        boolean classification = lossEntry == null || lossEntry.classification();
        ValidationSpec validation = ValidationResolver.resolve(seen, classification, vocabulary.metrics(), CONSTANTS);
        return new TrainSpec(decl.model(), data, dataArgs, loss, lossArgs, optimizer, schedule, batch, epochs, seed, clip, augment,
                validation, decl.span());
    }

    /** A call, or a bare name read as a call without arguments ({@code sgd}, {@code cosine}). */
    private static Call call(Setting s, String expected) {
        if (s.value() instanceof Call c) return c;
        if (s.value() instanceof Expr.Name n) return new Call(n.name(), n.span(), List.of(), false, n.span());
        throw new ModelException(s.value().span(), expected);
    }

    private static ScheduleSpec schedule(Call call, TrainVocabulary vocabulary) {
        LearningRateSchedule found = vocabulary.schedules().get(call.name());
        if (found == null) {
            throw new ModelException(call.nameSpan(), "unknown schedule '" + call.name() + "'"
                    + orList(call.name(), vocabulary.scheduleNames(), "schedules"));
        }
        ParamSchema schema = Schedules.withWarmup(found.schema());
        return new ScheduleSpec(call.name(), CallBinder.bind(call, call.arguments(), schema, CONSTANTS), found, call.span());
    }

    /** {@link Schedules#check}, reported at the argument at fault (at the callee when it was not written). */
    private static void check(Call call, ScheduleSpec schedule, double baseLr, int epochs) {
        try {
            Schedules.check(schedule.schedule(), schedule.args(), baseLr, epochs);
        } catch (ArgumentException e) {
            throw CallBinder.error(call, call.arguments(), Schedules.withWarmup(schedule.schedule().schema()), e);
        }
    }

    /**
     * {@code augment = [random_crop(28, pad=4), flip(horizontal), ...]}: a list of augmentation
     * calls (a bare name is a call without arguments), each bound to its schema and checked against
     * {@code input}, which must be an image [C, H, W]. Inside {@code flip} a bare name is the
     * direction's spelling, so {@code flip(vertical)} reads as written.
     */
    private static List<AugmentSpec> augment(Setting s, Shape input) {
        if (!(s.value() instanceof Expr.ListLiteral list)) {
            throw new ModelException(s.value().span(), "augment expects a list such as [flip(horizontal), rotate(degrees=10)]");
        }
        if (input != null && input.rank() != 3) {
            throw new ModelException(s.value().span(), "augment works on images [channels, height, width]; this model's input is "
                    + input);
        }
        List<AugmentSpec> out = new ArrayList<>();
        for (Expr e : list.elements()) {
            Call call;
            if (e instanceof Call c) call = c;
            else if (e instanceof Expr.Name n) call = new Call(n.name(), n.span(), List.of(), false, n.span());
            else throw new ModelException(e.span(), "augment lists calls such as flip(horizontal) (augmentations: "
                    + String.join(", ", Augmentations.NAMES) + ")");
            ParamSchema schema = Augmentations.schema(call.name());
            if (schema == null) {
                throw new ModelException(call.nameSpan(), "unknown augmentation '" + call.name() + "'"
                        + orList(call.name(), Augmentations.NAMES, "augmentations"));
            }
            ExpressionEvaluator evaluator = call.name().equals("flip") ? DIRECTION_NAMES : CONSTANTS;
            LayerArgs args = CallBinder.bind(call, call.arguments(), schema, evaluator);
            if (input != null) {
                try {
                    Augmentations.check(call.name(), args, input);
                } catch (ArgumentException ex) {
                    throw CallBinder.error(call, call.arguments(), schema, ex);
                }
            }
            out.add(new AugmentSpec(call.name(), args, call.span()));
        }
        return out;
    }

    /** An identifier or a non-empty string. */
    private static String word(Setting s, String expected) {
        if (s.value() instanceof Expr.Name n) return n.name();
        if (s.value() instanceof Expr.StringLiteral str && !str.value().isEmpty()) return str.value();
        throw new ModelException(s.value().span(), s.key() + " expects " + expected);
    }

    /**
     * {@code loss = name} or {@code loss = name(arg=value)}: a loss of the vocabulary, its
     * arguments bound to its schema (a bare name gets the defaults).
     */
    private static Call loss(Setting s, TrainVocabulary vocabulary) {
        Call call;
        if (s.value() instanceof Call c) call = c;
        else call = new Call(word(s, "a loss name such as softmax_cross_entropy, or a call such as name(arg=value)"), s.value().span(), List.of(), false, s.value().span());
        if (!vocabulary.losses().containsKey(call.name())) {
            throw new ModelException(call.nameSpan(), "unknown loss '" + call.name() + "'"
                    + orList(call.name(), vocabulary.lossNames(), "losses"));
        }
        return call;
    }

    private static OptimizerSpec optimizer(Setting s, TrainVocabulary vocabulary) {
        Call call = call(s, "optimizer expects a name or a call such as sgd(lr=0.05)");
        ParamSchema schema = vocabulary.optimizers().get(call.name());
        if (schema == null) {
            throw new ModelException(call.nameSpan(), "unknown optimizer '" + call.name() + "'"
                    + orList(call.name(), vocabulary.optimizerNames(), "optimizers"));
        }
        LayerArgs args = CallBinder.bind(call, call.arguments(), schema, CONSTANTS);
        return new OptimizerSpec(call.name(), args, call.span());
    }

    private static long integer(Setting s, long min, long max) {
        Object v = CONSTANTS.evaluate(s.value());
        if (!(v instanceof Long l)) {
            throw new ModelException(s.value().span(), s.key() + " expects an int, got " + ExpressionEvaluator.kind(v));
        }
        if (l < min) throw new ModelException(s.value().span(), s.key() + " must be at least " + min + ", got " + l);
        if (l > max) throw new ModelException(s.value().span(), s.key() + " must be at most " + max + ", got " + l);
        return l;
    }

    /** A number > 0 (an int is accepted), e.g. the gradient-clipping norm. */
    private static double positive(Setting s) {
        Object v = CONSTANTS.evaluate(s.value());
        if (!(v instanceof Number n)) {
            throw new ModelException(s.value().span(), s.key() + " expects a number, got " + ExpressionEvaluator.kind(v));
        }
        double d = n.doubleValue();
        if (!(d > 0) || Double.isInfinite(d)) {
            throw new ModelException(s.value().span(), s.key() + " must be a positive number, got " + v);
        }
        return d;
    }

    /** "; did you mean 'x'?" when something is close, else " (settings: a, b, c)". */
    private static String orList(String word, List<String> known, String what) {
        String close = suggestion(word, known);
        return close.isEmpty() ? " (" + what + ": " + String.join(", ", known) + ")" : close;
    }

    private static String suggestion(String word, Collection<String> known) {
        List<String> close = LayerRegistry.closest(word, known);
        return close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?";
    }
}
