package org.neurite.serving;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.neurite.backend.Backend;
import org.neurite.config.DeploymentConfig;
import org.neurite.data.DatasetLocator;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;

/**
 * One model as the server serves it: its script's graph, the names and shapes the v2 metadata
 * reports, the class labels of its dataset, and the {@link DynamicBatcher} whose workers each own
 * a backend, a copy of the weights and a {@link Predictor}.
 */
final class ServedModel implements AutoCloseable {
    private final String name;
    private final String inputName;
    private final Shape inputShape;
    private final String outputName;
    private final Shape outputShape;
    private final List<String> labels;
    private final List<ParameterStore> stores;
    private final List<Predictor> predictors;
    private final List<Backend> backends;
    private final DynamicBatcher batcher;
    private final String backendName;

    private ServedModel(String name, TypedGraph graph, List<String> labels, List<Backend> backends, List<ParameterStore> stores,
                        List<Predictor> predictors, ServeConfig.ModelSpec spec, DynamicBatcher.BatchListener onBatch) {
        this.name = name;
        this.inputName = graph.graph().inputs().get(0).name();
        this.inputShape = graph.shape(inputName);
        this.outputName = graph.graph().outputs().get(0);
        this.outputShape = graph.outputShape();
        this.labels = labels;
        this.backends = backends;
        this.stores = stores;
        this.predictors = predictors;
        this.backendName = backends.get(0).name();
        this.batcher = new DynamicBatcher(name, inputShape.size(), outputShape.size(), spec.maxBatch(), spec.maxDelayMs(),
                spec.queueLimit(), predictors, onBatch);
    }

    /**
     * Loads {@code spec}'s script and weights once per worker, on the backend its deployment names
     * (with the fallback chain; {@code warnings} hears of a fallback).
     *
     * @param folder the folder the spec's relative paths are resolved against
     * @param onBatch told the sample count and forward-pass time of every batch run
     */
    static ServedModel load(ServeConfig.ModelSpec spec, DeploymentConfig deployment, NeuriteRuntime runtime, Path folder,
                            Consumer<String> warnings, DynamicBatcher.BatchListener onBatch) throws IOException {
        Script script = new ScriptLoader(runtime.layers()).load(ServeConfig.resolve(spec.script(), folder));
        TypedGraph graph = spec.model() != null ? script.model(spec.model()) : script.mainModel();
        if (graph == null) {
            throw new IllegalArgumentException("no model '" + spec.model() + "' in " + spec.script() + "; it defines: "
                    + String.join(", ", script.models().stream().map(g -> g.graph().name()).toList()));
        }
        // Class names only from the script's own train section, one per output: a script without
        // one (what nn import writes) would otherwise get the defaults' dataset's names.
        List<String> labels = script.training(graph.graph().name())
                .map(training -> DatasetLocator.classNames(training.data()))
                .filter(names -> names.size() == graph.outputShape().size())
                .orElse(List.of());
        Path weights = ServeConfig.resolve(spec.weights(), folder);
        List<Backend> backends = new ArrayList<>();
        List<ParameterStore> stores = new ArrayList<>();
        List<Predictor> predictors = new ArrayList<>();
        try {
            for (int w = 0; w < spec.workers(); w++) {
                Backend backend = runtime.createBackend(spec.backendIn(deployment), deployment.backendOptions(),
                        spec.fallbackIn(deployment), w == 0 ? warnings : m -> { });
                backends.add(backend);
                ParameterStore store = new ParameterStore(graph, backend, 0);
                stores.add(store);
                Checkpoints.loadWeights(weights, store);
                Predictor predictor = new Predictor(graph, store, spec.maxBatch());
                predictors.add(predictor);
                DynamicBatcher.warmUp(predictor, spec.maxBatch());
            }
        } catch (IOException | RuntimeException e) {
            predictors.forEach(Predictor::close);
            stores.forEach(ParameterStore::close);
            backends.forEach(Backend::close);
            throw e;
        }
        return new ServedModel(spec.name(), graph, labels, backends, stores, predictors, spec, onBatch);
    }

    String name() { return name; }

    String inputName() { return inputName; }

    /** One sample's input shape (no batch axis). */
    Shape inputShape() { return inputShape; }

    String outputName() { return outputName; }

    /** One sample's output shape (no batch axis). */
    Shape outputShape() { return outputShape; }

    /** Class names of the model's dataset, or empty when it has none known. */
    List<String> labels() { return labels; }

    /** The backend the workers run on (after any fallback). */
    String backendName() { return backendName; }

    int queueDepth() { return batcher.queueDepth(); }

    /** Marks a request for this model as being received; see {@link DynamicBatcher#arrive}. */
    DynamicBatcher.Arrival arrive() { return batcher.arrive(); }

    /** Stops taking requests and answers the queued ones. */
    void drain(long timeoutMs) { batcher.drain(timeoutMs); }

    @Override public void close() {
        batcher.close();
        predictors.forEach(Predictor::close);
        stores.forEach(ParameterStore::close);
        backends.forEach(Backend::close);
    }
}
