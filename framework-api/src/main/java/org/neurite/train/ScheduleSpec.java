package org.neurite.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.neurite.diag.SourceSpan;
import org.neurite.layer.LayerArgs;

/**
 * {@code schedule = step(every=3, gamma=0.1)}: a learning-rate schedule's name and arguments
 * bound to {@link Schedules#schema}.
 */
public record ScheduleSpec(String name, LayerArgs args, SourceSpan span) {
    /** The optimizer's learning rate throughout (what a train section without {@code schedule} gets). */
    public static final ScheduleSpec CONSTANT = new ScheduleSpec("constant", LayerArgs.empty(), SourceSpan.UNKNOWN);

    /** Whether the rate never changes: the constant schedule without a warm-up. */
    public boolean isConstant() { return name.equals("constant") && Schedules.warmup(args) == 0; }

    /**
     * The learning rate of epoch {@code epoch} (counted from 0, as PyTorch's schedulers count)
     * of a run of {@code epochs} epochs whose optimizer starts at {@code baseLr}.
     */
    public double learningRate(double baseLr, int epoch, int epochs) {
        return Schedules.learningRate(name, args, baseLr, epoch, epochs);
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
