package org.neurite.train;

import java.util.List;
import org.neurite.diag.SourceSpan;
import org.neurite.layer.LayerArgs;

/**
 * The {@code train Model { ... }} section of a script.
 *
 * @param data a dataset name ({@code fashion_mnist}, {@code mnist}) or a folder of IDX files
 * @param loss a loss registered with the runtime: the core's {@link #LOSSES} or a plugin's {@link LossFunction}
 * @param lossArgs the loss's arguments bound to its {@link LossFunction#schema()}
 *     ({@code label_smoothing_cross_entropy(epsilon=0.05)}); empty for a loss that takes none
 * @param schedule how the optimizer's learning rate changes from epoch to epoch
 * @param seed seeds initial weights, shuffling and dropout
 * @param clipNorm when positive, gradients are scaled so their global L2 norm is at most this
 * @param dataArgs arguments of a generated data source ({@code adding(length=100)}), else empty
 * @param augment what is done to each training sample as its batch is gathered, in order; empty for none
 * @param validation the validation split and what it chooses (early stopping, the epoch kept)
 */
public record TrainSpec(String model, String data, LayerArgs dataArgs, String loss, LayerArgs lossArgs, OptimizerSpec optimizer,
                        ScheduleSpec schedule, int batch, int epochs, long seed, double clipNorm, List<AugmentSpec> augment,
                        ValidationSpec validation, SourceSpan span) {
    public static final List<String> LOSSES = List.of("softmax_cross_entropy", "cross_entropy", "mse");
    public static final List<String> SETTINGS = List.of("data", "loss", "optimizer", "schedule", "batch", "epochs", "seed", "clip",
            "augment", "validation", "early_stopping", "keep");

    public TrainSpec {
        augment = List.copyOf(augment);
        if (validation == null) validation = ValidationSpec.NONE;
    }

    /** A spec whose loss takes no arguments. */
    public TrainSpec(String model, String data, LayerArgs dataArgs, String loss, OptimizerSpec optimizer,
                     ScheduleSpec schedule, int batch, int epochs, long seed, double clipNorm, List<AugmentSpec> augment,
                     ValidationSpec validation, SourceSpan span) {
        this(model, data, dataArgs, loss, LayerArgs.empty(), optimizer, schedule, batch, epochs, seed, clipNorm, augment, validation,
                span);
    }

    /** A spec without a validation split. */
    public TrainSpec(String model, String data, LayerArgs dataArgs, String loss, OptimizerSpec optimizer,
                     ScheduleSpec schedule, int batch, int epochs, long seed, double clipNorm, List<AugmentSpec> augment,
                     SourceSpan span) {
        this(model, data, dataArgs, loss, LayerArgs.empty(), optimizer, schedule, batch, epochs, seed, clipNorm, augment,
                ValidationSpec.NONE, span);
    }

    /** A spec without augmentation. */
    public TrainSpec(String model, String data, LayerArgs dataArgs, String loss, OptimizerSpec optimizer,
                     ScheduleSpec schedule, int batch, int epochs, long seed, double clipNorm, SourceSpan span) {
        this(model, data, dataArgs, loss, optimizer, schedule, batch, epochs, seed, clipNorm, List.of(), span);
    }

    /** A spec with a constant learning rate. */
    public TrainSpec(String model, String data, LayerArgs dataArgs, String loss, OptimizerSpec optimizer,
                     int batch, int epochs, long seed, double clipNorm, SourceSpan span) {
        this(model, data, dataArgs, loss, optimizer, ScheduleSpec.CONSTANT, batch, epochs, seed, clipNorm, span);
    }

    /** A spec without gradient clipping and with a constant learning rate. */
    public TrainSpec(String model, String data, String loss, OptimizerSpec optimizer,
                     int batch, int epochs, long seed, SourceSpan span) {
        this(model, data, LayerArgs.empty(), loss, optimizer, batch, epochs, seed, 0, span);
    }

    /**
     * This spec with other batch size, epochs and seed (command-line overrides). The schedule
     * stays; a cosine schedule then anneals over the new number of epochs.
     */
    public TrainSpec with(int batch, int epochs, long seed) {
        return new TrainSpec(model, data, dataArgs, loss, lossArgs, optimizer, schedule, batch, epochs, seed, clipNorm, augment,
                validation, span);
    }

    /** This spec with another validation split and choice of epochs (what a Java caller sets instead of the script). */
    public TrainSpec withValidation(ValidationSpec validation) {
        return new TrainSpec(model, data, dataArgs, loss, lossArgs, optimizer, schedule, batch, epochs, seed, clipNorm, augment,
                validation, span);
    }

    /** The optimizer's {@code lr} argument: the rate the schedule starts from. */
    public double baseLearningRate() {
        return optimizer.args().getDouble("lr");
    }

    /**
     * The learning rate the optimizer uses throughout epoch {@code epoch}, counted from 1 as
     * {@code Trainer.trainEpoch} counts (the schedule's epoch {@code epoch - 1}), rounded to
     * the float the optimizer holds. A constant schedule gives exactly the optimizer's lr.
     */
    public float learningRate(int epoch) {
        if (epoch < 1) throw new IllegalArgumentException("epochs count from 1, got " + epoch);
        return (float) schedule.learningRate(baseLearningRate(), epoch - 1, epochs);
    }

    /** Defaults for a script without a train section. */
    public static TrainSpec defaults(String model) {
        return new TrainSpec(model, "fashion_mnist", "softmax_cross_entropy",
                new OptimizerSpec("sgd", Optimizers.schema("sgd").bind(List.of(), java.util.Map.of()), SourceSpan.UNKNOWN),
                64, 5, 1, SourceSpan.UNKNOWN);
    }
}
