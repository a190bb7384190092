package org.neurite.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.inject.Module;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.tensor.Tensor;
import org.neurite.train.LearningRateSchedule;
import org.neurite.train.LossFunction;
import org.neurite.train.Metric;
import org.neurite.train.OptimizerFactory;
import org.neurite.train.ParameterUpdate;
import org.neurite.train.Schedules;
import org.neurite.train.TrainableParameters;

/** The training registries the runtime's injector provides: what plugins bind, duplicates, unknown names, each kind's checks. */
class NamedRegistryTest {
    /** A loss that is never computed here: the registry only holds it. */
    record NamedLoss(String name) implements LossFunction {
        @Override public boolean classification() { return true; }

        @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
            throw new UnsupportedOperationException("not computed in these tests");
        }
    }

    record NamedOptimizer(String name, ParamSchema schema) implements OptimizerFactory {
        NamedOptimizer(String name) {
            this(name, ParamSchema.of(ParamSpec.optional("lr", ParamType.FLOAT, 1e-4, "learning rate")));
        }

        @Override public ParameterUpdate create(LayerArgs args, TrainableParameters params) {
            throw new UnsupportedOperationException("not created in these tests");
        }
    }

    static final class Losses implements NeuritePlugin {
        private final LossFunction[] losses;

        Losses(LossFunction... losses) { this.losses = losses; }

        @Override public String name() { return "losses"; }

        @Override public Module module() {
            return new PluginModule() {
                @Override protected void configure() {
                    for (LossFunction l : losses) loss(l);
                    optimizer(new NamedOptimizer("lion"));
                }
            };
        }
    }

    static final class OtherLoss implements LossFunction {
        @Override public String name() { return "focal"; }
        @Override public boolean classification() { return true; }
        @Override public double compute(Tensor output, Tensor targets, Tensor gradOutput, int rows, int denominator) {
            throw new UnsupportedOperationException("not computed in these tests");
        }
    }

    @Test void theInjectorProvidesEveryPluginsContributionsAndEmptyRegistriesWithoutAny() {
        LossFunction focal = new NamedLoss("focal");
        try (NeuriteRuntime runtime = NeuriteRuntime.of(List.of(new Losses(focal, new NamedLoss("hinge"))))) {
            assertEquals(List.of("focal", "hinge"), runtime.losses().names());
            assertSame(focal, runtime.losses().require("focal"));
            assertEquals(List.of("lion"), runtime.optimizers().names());
        }
        try (NeuriteRuntime empty = NeuriteRuntime.of(List.of())) {
            assertEquals(List.of(), empty.losses().names());
            assertEquals("unknown optimizer 'sgd' (no plugin registers any optimizer)",
                    assertThrows(IllegalArgumentException.class, () -> empty.optimizers().require("sgd")).getMessage());
        }
    }

    @Test void anUnknownNameListsWhatExists() {
        try (NeuriteRuntime runtime = NeuriteRuntime.of(List.of(new Losses(new NamedLoss("focal"), new NamedLoss("hinge"))))) {
            assertEquals("unknown loss 'focl'; did you mean 'focal'? (available: focal, hinge)",
                    assertThrows(IllegalArgumentException.class, () -> runtime.losses().require("focl")).getMessage());
            assertEquals("unknown loss 'mse' (available: focal, hinge)",
                    assertThrows(IllegalArgumentException.class, () -> runtime.losses().require("mse")).getMessage());
        }
    }

    static final class NoLearningRate implements NeuritePlugin {
        @Override public String name() { return "no-lr"; }

        @Override public Module module() {
            return new PluginModule() {
                @Override protected void configure() {
                    optimizer(new NamedOptimizer("lbfgs", ParamSchema.empty()));
                }
            };
        }
    }

    @Test void anOptimizerWithoutALearningRateFails() {
        PluginException e = assertThrows(PluginException.class, () -> NeuriteRuntime.of(List.of(new NoLearningRate())));
        assertEquals("optimizer 'lbfgs' of " + NamedOptimizer.class.getName() + " (" + PluginJars.location(NamedOptimizer.class)
                + "/) has no float argument 'lr' (the learning rate schedules start from)", e.getMessage());
    }

    @Test void aNameRegisteredTwiceFailsNamingBoth() {
        PluginException e = assertThrows(PluginException.class,
                () -> NeuriteRuntime.of(List.of(new Losses(new NamedLoss("focal")), new Losses(new OtherLoss()))));
        String where = " (" + PluginJars.location(NamedLoss.class) + "/)";
        assertEquals("loss 'focal' is registered twice: by " + NamedLoss.class.getName() + where + " and by "
                + OtherLoss.class.getName() + where, e.getMessage());
    }

    /** A schedule that is never stepped here: the registry only holds it. */
    record NamedSchedule(String name, ParamSchema schema) implements LearningRateSchedule {
        @Override public double learningRate(LayerArgs args, double baseLr, int epoch, int epochs) { return baseLr; }
    }

    /** A metric that is never measured here. */
    record NamedMetric(String name) implements Metric {
        @Override public boolean classification() { return true; }

        @Override public boolean higherIsBetter() { return true; }

        @Override public Tally start() { throw new UnsupportedOperationException("not measured in these tests"); }
    }

    /** Contributes one schedule and one metric. */
    record ScheduleAndMetric(LearningRateSchedule schedule, Metric metric) implements NeuritePlugin {
        @Override public String name() { return "schedule-and-metric"; }

        @Override public Module module() {
            return new PluginModule() {
                @Override protected void configure() {
                    schedule(schedule);
                    metric(metric);
                }
            };
        }
    }

    @Test void schedulesAndMetricsReachTheirRegistriesAndTheirNamesAreChecked() {
        ScheduleAndMetric fine = new ScheduleAndMetric(new NamedSchedule("one_cycle", ParamSchema.empty()), new NamedMetric("mae"));
        try (NeuriteRuntime runtime = NeuriteRuntime.of(List.of(fine))) {
            assertEquals(List.of("one_cycle"), runtime.schedules().names());
            assertEquals(List.of("mae"), runtime.metrics().names());
            assertEquals(List.of(), runtime.dataSources().names());
        }
        String where = " (" + PluginJars.location(NamedSchedule.class) + "/)";
        ParamSchema ownWarmup = ParamSchema.of(ParamSpec.optional(Schedules.WARMUP, ParamType.INT, 0, "epochs"));
        PluginException e = assertThrows(PluginException.class, () -> NeuriteRuntime.of(List.of(
                new ScheduleAndMetric(new NamedSchedule("linear", ownWarmup), new NamedMetric("mae")))));
        assertEquals("schedule 'linear' of " + NamedSchedule.class.getName() + where
                + " declares 'warmup', which every schedule takes from the framework", e.getMessage());
        e = assertThrows(PluginException.class, () -> NeuriteRuntime.of(List.of(
                new ScheduleAndMetric(new NamedSchedule("linear", ParamSchema.empty()), new NamedMetric("loss")))));
        assertEquals("metric 'loss' of " + NamedMetric.class.getName() + where
                + " needs a lower-case identifier other than 'loss' for a name (its records are val_<name>, test_<name>)", e.getMessage());
    }
}
