package org.neurite.train;

import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;

/**
 * A learning-rate schedule a train section can name, {@code schedule = name(arg=value, ...)}: a
 * closed form of the epoch alone (counted from 0, stepped once per epoch as PyTorch's
 * {@code torch.optim.lr_scheduler} classes are), so that a resumed run gets exactly the rates of
 * one that never stopped. A plugin contributes one with {@code PluginModule.schedule}; the core's
 * {@code constant}, {@code step}, {@code exponential} and {@code cosine} ({@link Schedules}) are
 * contributed the same way.
 *
 * <p>Every schedule also takes {@code warmup=W}, which the framework adds to {@link #schema()}
 * and applies itself ({@link Schedules#withWarmup}): the schedule sees its own epochs only, from 0.
 */
public interface LearningRateSchedule {
    /** The name scripts use, e.g. {@code step}. */
    String name();

    /** The arguments, with defaults and ranges, without {@code warmup}. */
    ParamSchema schema();

    /**
     * Checks what the schema cannot, e.g. that a floor lies below the optimizer's rate.
     *
     * @param args arguments bound to {@link Schedules#withWarmup withWarmup(schema())}
     * @param baseLr the optimizer's {@code lr}, where the schedule starts
     * @throws ArgumentException naming the argument at fault (position -1)
     */
    default void check(LayerArgs args, double baseLr) {}

    /**
     * The rate of the schedule's epoch {@code epoch} (from 0) of {@code epochs} (at least 1), in double.
     *
     * @param args arguments bound as for {@link #check}
     */
    double learningRate(LayerArgs args, double baseLr, int epoch, int epochs);
}
