package org.neurite.engine;

import com.google.inject.Inject;
import java.util.List;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerArgs;
import org.neurite.plugin.NamedRegistry;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.LossFunction;
import org.neurite.train.Metric;
import org.neurite.train.OptimizerFactory;
import org.neurite.train.OptimizerSpec;
import org.neurite.train.TrainSpec;

/**
 * Creates {@link Trainer}s whose loss and optimizer come from the runtime's registries, so a
 * script can name a plugin's as readily as the core's, and which evaluate every registered metric
 * of the loss's kind. Get one from the runtime's injector,
 * {@code runtime.instance(Trainers.class)}, which hands it the registries of every plugin loaded.
 */
public final class Trainers {
    private final NamedRegistry<LossFunction> losses;
    private final NamedRegistry<OptimizerFactory> optimizers;
    private final NamedRegistry<Metric> metrics;

    @Inject
    public Trainers(NamedRegistry<LossFunction> losses, NamedRegistry<OptimizerFactory> optimizers, NamedRegistry<Metric> metrics) {
        this.losses = losses;
        this.optimizers = optimizers;
        this.metrics = metrics;
    }

    /** The core's losses and optimizers alone, from an injector with no plugin but {@link CoreTrainingPlugin}. */
    private static final class Core {
        static final Trainers TRAINERS = NeuriteRuntime.of(List.of(new CoreTrainingPlugin())).instance(Trainers.class);
    }

    /** Trainers that know the core's losses and optimizers only, as {@code new Trainer(graph, store, spec)} does. */
    public static Trainers core() {
        return Core.TRAINERS;
    }

    /** The service of {@code runtime}'s injector. */
    public static Trainers of(NeuriteRuntime runtime) {
        return runtime.instance(Trainers.class);
    }

    /**
     * The loss named {@code name}, as registered (with its arguments' defaults).
     *
     * @throws IllegalArgumentException for an unknown name, listing the registered losses
     */
    public Loss loss(String name) {
        return ContributedLoss.of(losses.require(name));
    }

    /**
     * The loss named {@code name} with {@code args} (bound to its schema; empty for the registered
     * instance as it is).
     *
     * @throws IllegalArgumentException for an unknown name, listing the registered losses
     */
    public Loss loss(String name, LayerArgs args) {
        LossFunction registered = losses.require(name);
        return ContributedLoss.of(args.values().isEmpty() ? registered : registered.withArguments(args));
    }

    /** The loss {@code spec} names, with its arguments. */
    public Loss loss(TrainSpec spec) {
        return loss(spec.loss(), spec.lossArgs());
    }

    /**
     * The optimizer {@code spec} names, over {@code store}'s trainable parameters, its state allocated.
     *
     * @throws IllegalArgumentException for an unknown name, listing the registered optimizers
     */
    public Optimizer optimizer(OptimizerSpec spec, ParameterStore store) {
        return ContributedOptimizer.of(optimizers.require(spec.name()).create(spec.args(), store));
    }

    /** A trainer of {@code graph} with {@code spec}'s loss (and its arguments), optimizer and the metrics from the registries. */
    public Trainer create(TypedGraph graph, ParameterStore store, TrainSpec spec) {
        Loss loss = loss(spec);
        return new Trainer(graph, store, spec, loss, optimizer(spec.optimizer(), store), metrics(loss.classification()));
    }

    /** The registered metrics of one kind: a classifier's ({@code accuracy}, …) or a regression's. */
    public List<Metric> metrics(boolean classification) {
        return metrics.all().values().stream().filter(m -> m.classification() == classification).toList();
    }
}
