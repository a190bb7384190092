package org.neurite.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.neurite.diag.SourceSpan;
import org.neurite.layer.LayerArgs;

/**
 * {@code schedule = step(every=3, gamma=0.1)}: a learning-rate schedule and its arguments bound to
 * {@link Schedules#withWarmup withWarmup(schedule.schema())}. The schedule is the one the script
 * checker found in the runtime's registry (a plugin's or the core's), so the engine computes the
 * rates without looking the name up again.
 *
 * @param schedule the schedule named {@code name}
 */
public record ScheduleSpec(String name, LayerArgs args, LearningRateSchedule schedule, SourceSpan span) {
    /** The optimizer's learning rate throughout (what a train section without {@code schedule} gets). */
    public static final ScheduleSpec CONSTANT = new ScheduleSpec("constant", LayerArgs.empty(), SourceSpan.UNKNOWN);

    public ScheduleSpec {
        if (!schedule.name().equals(name)) {
            throw new IllegalArgumentException("schedule '" + schedule.name() + "' given for the name '" + name + "'");
        }
    }

    /**
     * One of the core's schedules ({@link Schedules#NAMES}) by name.
     *
     * @throws IllegalArgumentException when the core has no schedule of that name
     */
    public ScheduleSpec(String name, LayerArgs args, SourceSpan span) {
        this(name, args, core(name), span);
    }

    private static LearningRateSchedule core(String name) {
        LearningRateSchedule s = Schedules.core(name);
        if (s == null) throw new IllegalArgumentException("unknown schedule '" + name + "' (the core's: " + Schedules.NAMES + ")");
        return s;
    }

    /** Whether the rate never changes: the constant schedule without a warm-up. */
    public boolean isConstant() { return name.equals("constant") && Schedules.warmup(args) == 0; }

    /**
     * The learning rate of epoch {@code epoch} (counted from 0, as PyTorch's schedulers count)
     * of a run of {@code epochs} epochs whose optimizer starts at {@code baseLr}.
     */
    public double learningRate(double baseLr, int epoch, int epochs) {
        return Schedules.learningRate(schedule, args, baseLr, epoch, epochs);
    }

    /**
     * Canonical text: {@code constant}, {@code step(every=3, gamma=0.1)}, {@code cosine(min_lr=0)},
     * {@code cosine(min_lr=0, warmup=2)}; a warm-up of 0 is left out.
     */
    @Override public String toString() {
        Map<String, Object> shown = new LinkedHashMap<>(args.values());
        if (Schedules.warmup(args) == 0) shown.remove(Schedules.WARMUP);
        return shown.isEmpty() ? name : name + "(" + new LayerArgs(shown) + ")";
    }
}
