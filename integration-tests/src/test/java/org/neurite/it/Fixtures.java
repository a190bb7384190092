package org.neurite.it;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.neurite.data.DatasetLocator;
import org.neurite.data.Normalization;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.NeuriteRuntime;

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

    /** The Fashion-MNIST subset bundled in the examples jar, whatever else this machine has. */
    static DatasetLocator.Located bundledSubset() throws IOException {
        DatasetLocator locator = new DatasetLocator(null, Map.of(), Path.of("/nonexistent-neurite-data"),
                Fixtures.class.getClassLoader());
        return locator.locate("fashion_mnist", Normalization.NONE, SourceSpan.UNKNOWN);
    }
}
