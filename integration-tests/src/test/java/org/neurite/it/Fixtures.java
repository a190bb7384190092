package org.neurite.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.data.Normalization;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/** Shared set-up for the end-to-end tests: the real plugins, scripts and the bundled data. */
final class Fixtures {
    static final NeuriteRuntime RUNTIME = NeuriteRuntime.discover();

    private Fixtures() {}

    static TypedGraph model(String source) {
        return new ScriptLoader(RUNTIME.layers()).parse("test.nn", source).mainModel();
    }

    static org.neurite.dsl.Script example(String name) throws IOException {
        return new ScriptLoader(RUNTIME.layers()).load(Path.of("../examples", name));
    }

    /** A CPU backend on two threads. */
    static Backend cpu() {
        return RUNTIME.createBackend("cpu", new BackendOptions(2, null), List.of(), w -> {});
    }

    /** {@code body} run with the system property {@code key} set to {@code value}, then restored. */
    static <T> T withProperty(String key, String value, Supplier<T> body) {
        String before = System.getProperty(key);
        System.setProperty(key, value);
        try {
            return body.get();
        } finally {
            if (before == null) System.clearProperty(key);
            else System.setProperty(key, before);
        }
    }

    /** One epoch over {@code data} on {@link #cpu()} from the spec's seed; the weights after it. */
    static List<NamedTensor> trainedWeights(TypedGraph graph, TrainSpec spec, Dataset data) {
        try (Backend backend = cpu();
             ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            trainer.trainEpoch(data, 1, TrainingListener.NONE);
            return store.export();
        }
    }

    /** The Fashion-MNIST subset bundled in the examples jar, whatever else this machine has. */
    static DatasetLocator.Located bundledSubset() throws IOException {
        DatasetLocator locator = new DatasetLocator(null, Map.of(), Path.of("/nonexistent-neurite-data"),
                Fixtures.class.getClassLoader());
        return locator.locate("fashion_mnist", Normalization.NONE, SourceSpan.UNKNOWN);
    }
}
