package org.neurite.train;

import static org.neurite.layer.ParamSpec.optional;
import static org.neurite.layer.ParamSpec.required;

import java.util.ArrayList;
import java.util.List;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;

/**
 * The learning-rate schedules a train section can name, with their argument schemas. Each is a
 * per-epoch schedule like PyTorch's {@code torch.optim.lr_scheduler}: the rate is a function of
 * the epoch alone (counted from 0), stepped once per epoch, never per batch.
 * <ul>
 *   <li>{@code constant}: the optimizer's {@code lr} throughout;</li>
 *   <li>{@code step(every, gamma=0.1)}: {@code lr · gamma^floor(e / every)} (StepLR);</li>
 *   <li>{@code exponential(gamma)}: {@code lr · gamma^e} (ExponentialLR);</li>
 *   <li>{@code cosine(min_lr=0)}: {@code min_lr + (lr − min_lr)·(1 + cos(π·e / E))/2} over the
 *       run's {@code E} epochs (CosineAnnealingLR with {@code T_max = epochs}).</li>
 * </ul>
 * Every schedule takes {@code warmup=W} (epochs, default 0): the first {@code W} epochs climb
 * linearly to the optimizer's rate, {@code lr·(e+1)/(W+1)}, and the schedule then runs over the
 * remaining {@code E − W} epochs from its own epoch 0 (PyTorch's
 * {@code SequentialLR([LinearLR(start_factor=1/(W+1), total_iters=W), schedule], milestones=[W])}).
 * Warm-up counts epochs, not steps, so that the rate stays a function of the epoch alone and a
 * resumed run gets exactly the rates of one that never stopped.
 *
 * <p>These are the core's {@link LearningRateSchedule}s ({@link #CORE}); the engine contributes
 * them to the runtime's schedule registry, where plugins add theirs, and the warm-up wraps a
 * plugin's schedule the same way ({@link #withWarmup}, {@link #learningRate(LearningRateSchedule,
 * LayerArgs, double, int, int)}).
 */
public final class Schedules {
    private Schedules() {}

    public static final List<String> NAMES = List.of("constant", "step", "exponential", "cosine");

    /** The name of the warm-up argument every schedule takes. */
    public static final String WARMUP = "warmup";

    /** The core's schedules, in the order of {@link #NAMES}. */
    public static final List<LearningRateSchedule> CORE = NAMES.stream().<LearningRateSchedule>map(Core::new).toList();

    /** One of the core's schedules, by name: each closed form is PyTorch's, in double. */
    private record Core(String name) implements LearningRateSchedule {
        @Override public ParamSchema schema() {
            return switch (name) {
                case "constant" -> ParamSchema.empty();
                case "step" -> ParamSchema.of(
                        required("every", ParamType.INT, "epochs between two decays (StepLR's step_size)").range(1, Double.POSITIVE_INFINITY),
                        optional("gamma", ParamType.FLOAT, 0.1, "factor applied every 'every' epochs"));
                case "exponential" -> ParamSchema.of(required("gamma", ParamType.FLOAT, "factor applied every epoch"));
                case "cosine" -> ParamSchema.of(
                        optional("min_lr", ParamType.FLOAT, 0.0, "learning rate the last epoch approaches (eta_min)")
                                .range(0, Double.POSITIVE_INFINITY));
                default -> throw new IllegalStateException(name);
            };
        }

        /** {@code gamma > 0} (growth is allowed, as in PyTorch); a cosine {@code min_lr} below the optimizer's rate. */
        @Override public void check(LayerArgs args, double baseLr) {
            if (name.equals("step") || name.equals("exponential")) {
                double gamma = args.getDouble("gamma");
                if (!(gamma > 0) || Double.isInfinite(gamma)) {
                    throw new ArgumentException("gamma", -1, "parameter 'gamma' must be > 0, got " + number(gamma));
                }
            }
            if (name.equals("cosine")) {
                double min = args.getDouble("min_lr");
                if (min > 0 && min >= baseLr) {
                    throw new ArgumentException("min_lr", -1, "parameter 'min_lr' must be below the optimizer's lr " + number(baseLr)
                            + " (where the schedule starts), got " + number(min));
                }
            }
        }

        @Override public double learningRate(LayerArgs args, double baseLr, int epoch, int epochs) {
            return switch (name) {
                case "constant" -> baseLr;
                case "step" -> baseLr * Math.pow(args.getDouble("gamma"), epoch / args.getInt("every"));
                case "exponential" -> baseLr * Math.pow(args.getDouble("gamma"), epoch);
                case "cosine" -> {
                    double min = args.getDouble("min_lr");
                    yield min + (baseLr - min) * (1 + Math.cos(Math.PI * epoch / epochs)) / 2;
                }
                default -> throw new IllegalStateException(name);
            };
        }
    }

    /** The core's schedule named {@code name}, or null if there is none. */
    public static LearningRateSchedule core(String name) {
        for (LearningRateSchedule s : CORE) if (s.name().equals(name)) return s;
        return null;
    }

    /** The schema of the core's schedule {@code name} with {@code warmup}, or null if there is no such schedule. */
    public static ParamSchema schema(String name) {
        LearningRateSchedule s = core(name);
        return s == null ? null : withWarmup(s.schema());
    }

    /**
     * What a script binds a schedule's call against: {@code schema} and then {@code warmup}, last
     * so that positional arguments keep their meaning.
     *
     * @throws IllegalArgumentException when {@code schema} declares {@code warmup} itself
     */
    public static ParamSchema withWarmup(ParamSchema schema) {
        if (schema.find(WARMUP) != null) {
            throw new IllegalArgumentException("a schedule's schema must not declare '" + WARMUP + "': every schedule takes it");
        }
        List<ParamSpec> specs = new ArrayList<>(schema.specs());
        specs.add(warmup());
        return ParamSchema.of(specs.toArray(ParamSpec[]::new));
    }

    private static ParamSpec warmup() {
        return optional(WARMUP, ParamType.INT, 0, "epochs of linear warm-up to the optimizer's lr before the schedule starts")
                .range(0, Double.POSITIVE_INFINITY);
    }

    /** Warm-up epochs of bound schedule arguments (0 when absent). */
    public static int warmup(LayerArgs args) {
        return args.has(WARMUP) ? args.getInt(WARMUP) : 0;
    }

    /**
     * Checks what the schema cannot for the core's schedule {@code name}: {@code gamma > 0}, a
     * cosine {@code min_lr} below the optimizer's learning rate {@code baseLr}, and a warm-up
     * shorter than the run's {@code epochs}.
     *
     * @param args arguments bound to {@link #schema(String) schema(name)}
     * @throws ArgumentException naming the argument at fault (position -1)
     */
    public static void check(String name, LayerArgs args, double baseLr, int epochs) {
        check(require(name), args, baseLr, epochs);
    }

    /**
     * As {@link #check(String, LayerArgs, double, int)} without the run's epochs: everything but
     * the warm-up's length.
     */
    public static void check(String name, LayerArgs args, double baseLr) {
        require(name).check(args, baseLr);
    }

    /** {@code schedule}'s own {@link LearningRateSchedule#check check}, then a warm-up shorter than the run's {@code epochs}. */
    public static void check(LearningRateSchedule schedule, LayerArgs args, double baseLr, int epochs) {
        schedule.check(args, baseLr);
        int warmup = warmup(args);
        if (warmup >= epochs) {
            throw new ArgumentException(WARMUP, -1, "parameter 'warmup' must be fewer epochs than the run's " + epochs
                    + " (the schedule needs at least one epoch after it), got " + warmup);
        }
    }

    private static LearningRateSchedule require(String name) {
        LearningRateSchedule s = core(name);
        if (s == null) throw new IllegalArgumentException("unknown schedule '" + name + "'");
        return s;
    }

    private static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }

    /** {@link #learningRate(LearningRateSchedule, LayerArgs, double, int, int)} of the core's schedule {@code name}. */
    public static double learningRate(String name, LayerArgs args, double baseLr, int epoch, int epochs) {
        return learningRate(require(name), args, baseLr, epoch, epochs);
    }

    /**
     * The learning rate of epoch {@code epoch} (counted from 0) of a run of {@code epochs}
     * epochs under {@code schedule}, starting from {@code baseLr}. During a warm-up the rate is
     * {@code baseLr·(epoch+1)/(warmup+1)}; after it the schedule's epoch is {@code epoch − warmup}
     * of {@code epochs − warmup} (at least 1, should {@code --epochs} leave none after the warm-up).
     */
    public static double learningRate(LearningRateSchedule schedule, LayerArgs args, double baseLr, int epoch, int epochs) {
        if (epoch < 0) throw new IllegalArgumentException("epoch " + epoch + " (epochs count from 0 here)");
        int warmup = warmup(args);
        if (epoch < warmup) return baseLr * (epoch + 1) / (warmup + 1);
        return schedule.learningRate(args, baseLr, epoch - warmup, Math.max(1, epochs - warmup));
    }
}
