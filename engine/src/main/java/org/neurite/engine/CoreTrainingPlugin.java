package org.neurite.engine;

import com.google.inject.Module;
import org.neurite.data.CoreDataSource;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.PluginModule;
import org.neurite.train.LearningRateSchedule;
import org.neurite.train.Metric;
import org.neurite.train.Metrics;
import org.neurite.train.Optimizers;
import org.neurite.train.Schedules;
import org.neurite.train.TrainSpec;

/**
 * The core's losses ({@link TrainSpec#LOSSES}: {@code softmax_cross_entropy}, also called
 * {@code cross_entropy}, and {@code mse}), optimizers ({@link Optimizers#NAMES}), learning-rate
 * schedules ({@link Schedules#CORE}), metrics ({@link Metrics#CORE}) and data sources
 * ({@link CoreDataSource}), the losses and optimizers built by the {@link Loss#byName} and
 * {@link Optimizer#create} the engine's own paths use, contributed
 * through the same binders as any plugin's, so the runtime's registries hold them all and a plugin
 * that reuses one of their names fails as a duplicate. Listed in this module's {@code META-INF/services}.
 */
public final class CoreTrainingPlugin implements NeuritePlugin {
    @Override public String name() { return "core-training"; }

    @Override public Module module() {
        return new PluginModule() {
            @Override protected void configure() {
                for (String name : TrainSpec.LOSSES) loss(name, Loss.byName(name));
                for (String name : Optimizers.NAMES) optimizer(new CoreOptimizer(name));
                for (LearningRateSchedule s : Schedules.CORE) schedule(s);
                for (Metric m : Metrics.CORE) metric(m);
                for (CoreDataSource d : CoreDataSource.all()) dataSource(d);
            }
        };
    }
}
