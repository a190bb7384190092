package org.neurite.plugin;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import org.neurite.layer.LayerType;
import org.neurite.train.DataSource;
import org.neurite.train.LearningRateSchedule;
import org.neurite.train.LossFunction;
import org.neurite.train.Metric;
import org.neurite.train.OptimizerFactory;

/**
 * Base class for plugin Guice modules: {@code layer(new Conv2d())} adds a layer type to the
 * {@code Multibinder<LayerType>}, {@code backend(new CpuBackendProvider())} a backend to the
 * {@code MapBinder<String, BackendProvider>}, and {@code kernel(new CpuMish())} a faster kernel
 * for one (layer, backend) pair to the {@code MapBinder<KernelKey, KernelOverride>};
 * {@code loss(new LabelSmoothingCrossEntropy())} and {@code optimizer(new Adagrad())} add a loss and an optimizer
 * scripts can name to the {@code MapBinder<String, LossFunction>} and
 * {@code MapBinder<String, OptimizerFactory>}; {@code schedule(new StepDecay())} a learning-rate
 * schedule to the {@code MapBinder<String, LearningRateSchedule>}, and {@code metric(new MeanAbsoluteError())}
 * a figure every evaluation records to the {@code MapBinder<String, Metric>}, and
 * {@code dataSource(new XorPoints())} data a train section can name to the
 * {@code MapBinder<String, DataSource>}.
 */
public abstract class PluginModule extends AbstractModule {
    protected final void layer(LayerType type) {
        Multibinder.newSetBinder(binder(), LayerType.class).addBinding().toInstance(type);
    }

    protected final void backend(BackendProvider provider) {
        MapBinder.newMapBinder(binder(), String.class, BackendProvider.class)
                .addBinding(provider.name()).toInstance(provider);
    }

    /** Registers {@code loss} under its {@link LossFunction#name()}. */
    protected final void loss(LossFunction loss) {
        loss(loss.name(), loss);
    }

    /** Registers {@code loss} under another name as well, e.g. {@code cross_entropy} for {@code softmax_cross_entropy}. */
    protected final void loss(String name, LossFunction loss) {
        MapBinder.newMapBinder(binder(), String.class, LossFunction.class).addBinding(name).toInstance(loss);
    }

    /** Registers {@code optimizer} under its {@link OptimizerFactory#name()}. */
    protected final void optimizer(OptimizerFactory optimizer) {
        MapBinder.newMapBinder(binder(), String.class, OptimizerFactory.class)
                .addBinding(optimizer.name()).toInstance(optimizer);
    }

    /** Registers {@code schedule} under its {@link LearningRateSchedule#name()}. */
    protected final void schedule(LearningRateSchedule schedule) {
        MapBinder.newMapBinder(binder(), String.class, LearningRateSchedule.class)
                .addBinding(schedule.name()).toInstance(schedule);
    }

    /** Registers {@code metric} under its {@link Metric#name()}. */
    protected final void metric(Metric metric) {
        MapBinder.newMapBinder(binder(), String.class, Metric.class).addBinding(metric.name()).toInstance(metric);
    }

    /** Registers {@code source} under its {@link DataSource#name()}. */
    protected final void dataSource(DataSource source) {
        MapBinder.newMapBinder(binder(), String.class, DataSource.class).addBinding(source.name()).toInstance(source);
    }

    /** Registers {@code override} for its layer on its backend; the layer may come from any plugin. */
    protected final void kernel(KernelOverride override) {
        MapBinder.newMapBinder(binder(), KernelKey.class, KernelOverride.class)
                .addBinding(KernelKey.of(override)).toInstance(override);
    }
}
