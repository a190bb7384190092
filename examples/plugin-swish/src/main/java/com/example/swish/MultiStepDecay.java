package com.example.swish;

import static org.neurite.layer.ParamSpec.optional;
import static org.neurite.layer.ParamSpec.required;

import java.util.Arrays;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;
import org.neurite.train.LearningRateSchedule;

/**
 * {@code schedule = multi_step(milestones=[3, 6], gamma=0.1)}: the rate drops by {@code gamma} at
 * each milestone epoch, as PyTorch's {@code torch.optim.lr_scheduler.MultiStepLR}. Its closed
 * form at epoch {@code e} (counted from 0):
 * <pre>
 *   lr_e = lr · gamma^m      m = how many milestones are ≤ e   (PyTorch: bisect_right(milestones, e))
 * </pre>
 * Milestones are epochs of the schedule, strictly increasing and at least 1 (a milestone at 0
 * would only lower the starting rate). A warm-up ({@code warmup=W}, which the framework adds)
 * runs first and the milestones count from its end.
 */
public final class MultiStepDecay implements LearningRateSchedule {
    @Override public String name() { return "multi_step"; }

    @Override public ParamSchema schema() {
        return ParamSchema.of(
                required("milestones", ParamType.INTS, "epochs at which the rate is multiplied by gamma, increasing"),
                optional("gamma", ParamType.FLOAT, 0.1, "factor applied at each milestone").range(0, 1));
    }

    @Override public void check(LayerArgs args, double baseLr) {
        int[] milestones = args.getInts("milestones");
        if (milestones.length == 0) throw new ArgumentException("milestones", -1, "parameter 'milestones' needs at least one epoch");
        for (int i = 0; i < milestones.length; i++) {
            if (milestones[i] < 1 || (i > 0 && milestones[i] <= milestones[i - 1])) {
                throw new ArgumentException("milestones", -1, "parameter 'milestones' must be increasing epochs of at least 1, got "
                        + Arrays.toString(milestones));
            }
        }
        if (!(args.getDouble("gamma") > 0)) {
            throw new ArgumentException("gamma", -1, "parameter 'gamma' must be > 0, got " + args.getDouble("gamma"));
        }
    }

    @Override public double learningRate(LayerArgs args, double baseLr, int epoch, int epochs) {
        int passed = 0;
        for (int m : args.getInts("milestones")) if (m <= epoch) passed++;
        return baseLr * Math.pow(args.getDouble("gamma"), passed);
    }
}
