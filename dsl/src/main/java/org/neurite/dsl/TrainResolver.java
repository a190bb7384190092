package org.neurite.dsl;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.neurite.train.DataSources;
import org.neurite.diag.ModelException;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.Setting;
import org.neurite.dsl.ast.TrainDecl;
import org.neurite.graph.LayerRegistry;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.train.OptimizerSpec;
import org.neurite.train.Optimizers;
import org.neurite.train.ScheduleSpec;
import org.neurite.train.Schedules;
import org.neurite.train.TrainSpec;

/**
 * Resolves {@code train Model { ... }} into a {@link TrainSpec}. Settings not written keep the
 * values of {@link TrainSpec#defaults}. {@code data} and {@code loss} take an identifier or a
 * string, {@code optimizer} a call or bare name bound with {@link Optimizers#schema},
 * {@code schedule} likewise with {@link Schedules#schema} (and {@link Schedules#check} against
 * the optimizer's lr once the whole section is read), {@code batch}, {@code epochs} and
 * {@code seed} integer expressions. Unknown settings, losses, optimizers and schedules get a
 * did-you-mean.
 */
final class TrainResolver {
    private static final ExpressionEvaluator CONSTANTS = new ExpressionEvaluator(n -> {
        throw new ModelException(n.span(), "undefined name '" + n.name() + "'; train settings take numbers here");
    });

    private TrainResolver() {}

    static TrainSpec resolve(TrainDecl decl, Collection<String> models) {
        if (!models.contains(decl.model())) {
            throw new ModelException(decl.modelSpan(), "train section for unknown model '" + decl.model() + "'"
                    + suggestion(decl.model(), models));
        }
        TrainSpec spec = TrainSpec.defaults(decl.model());
        String data = spec.data();
        LayerArgs dataArgs = spec.dataArgs();
        String loss = spec.loss();
        OptimizerSpec optimizer = spec.optimizer();
        ScheduleSpec schedule = spec.schedule();
        Call scheduleCall = null;
        int batch = spec.batch();
        int epochs = spec.epochs();
        long seed = spec.seed();
        double clip = spec.clipNorm();
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
                        ParamSchema schema = DataSources.schema(call.name());
                        if (schema == null) {
                            throw new ModelException(call.nameSpan(), "unknown data source '" + call.name() + "'"
                                    + orList(call.name(), DataSources.NAMES, "data sources"));
                        }
                        data = call.name();
                        dataArgs = CallBinder.bind(call, call.arguments(), schema, CONSTANTS);
                    } else {
                        data = word(s, "a dataset name, a folder path in quotes, or a source such as adding(length=100)");
                        dataArgs = DataSources.schema(data) == null ? LayerArgs.empty()
                                : CallBinder.bind(new Call(data, s.value().span(), List.of(), false, s.value().span()),
                                        List.of(), DataSources.schema(data), CONSTANTS);
                    }
                }
                case "loss" -> loss = loss(s);
                case "optimizer" -> optimizer = optimizer(s);
                case "schedule" -> {
                    scheduleCall = call(s, "schedule expects a name or a call such as step(every=3, gamma=0.1)");
                    schedule = schedule(scheduleCall);
                }
                case "batch" -> batch = (int) integer(s, 1, Integer.MAX_VALUE);
                case "epochs" -> epochs = (int) integer(s, 1, Integer.MAX_VALUE);
                case "seed" -> seed = integer(s, Long.MIN_VALUE, Long.MAX_VALUE);
                case "clip" -> clip = positive(s);
                default -> throw new ModelException(s.keySpan(), "unknown train setting '" + s.key() + "'"
                        + orList(s.key(), TrainSpec.SETTINGS, "settings"));
            }
        }
        if (scheduleCall != null) check(scheduleCall, schedule, optimizer.args().getDouble("lr"));
        return new TrainSpec(decl.model(), data, dataArgs, loss, optimizer, schedule, batch, epochs, seed, clip, decl.span());
    }

    /** A call, or a bare name read as a call without arguments ({@code sgd}, {@code cosine}). */
    private static Call call(Setting s, String expected) {
        if (s.value() instanceof Call c) return c;
        if (s.value() instanceof Expr.Name n) return new Call(n.name(), n.span(), List.of(), false, n.span());
        throw new ModelException(s.value().span(), expected);
    }

    private static ScheduleSpec schedule(Call call) {
        ParamSchema schema = Schedules.schema(call.name());
        if (schema == null) {
            throw new ModelException(call.nameSpan(), "unknown schedule '" + call.name() + "'"
                    + orList(call.name(), Schedules.NAMES, "schedules"));
        }
        return new ScheduleSpec(call.name(), CallBinder.bind(call, call.arguments(), schema, CONSTANTS), call.span());
    }

    /** {@link Schedules#check}, reported at the argument at fault (at the callee when it was not written). */
    private static void check(Call call, ScheduleSpec schedule, double baseLr) {
        try {
            Schedules.check(schedule.name(), schedule.args(), baseLr);
        } catch (ArgumentException e) {
            throw CallBinder.error(call, call.arguments(), Schedules.schema(schedule.name()), e);
        }
    }

    /** An identifier or a non-empty string. */
    private static String word(Setting s, String expected) {
        if (s.value() instanceof Expr.Name n) return n.name();
        if (s.value() instanceof Expr.StringLiteral str && !str.value().isEmpty()) return str.value();
        throw new ModelException(s.value().span(), s.key() + " expects " + expected);
    }

    private static String loss(Setting s) {
        String name = word(s, "a loss name such as softmax_cross_entropy");
        if (!TrainSpec.LOSSES.contains(name)) {
            throw new ModelException(s.value().span(), "unknown loss '" + name + "'" + orList(name, TrainSpec.LOSSES, "losses"));
        }
        return name;
    }

    private static OptimizerSpec optimizer(Setting s) {
        Call call = call(s, "optimizer expects a name or a call such as sgd(lr=0.05)");
        ParamSchema schema = Optimizers.schema(call.name());
        if (schema == null) {
            throw new ModelException(call.nameSpan(), "unknown optimizer '" + call.name() + "'"
                    + orList(call.name(), Optimizers.NAMES, "optimizers"));
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
