package org.neurite.plugins.recurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.neurite.backend.Backend;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.testkit.LayerHarness;

/**
 * The layers against PyTorch: every case of {@code fixtures/recurrent.safetensors} (made by
 * {@code tools/fixtures/recurrent/make_recurrent_fixtures.py} from {@code nn.LSTM}, {@code nn.GRU},
 * {@code nn.RNN} and {@code nn.Embedding}; the masked cases run PyTorch on
 * {@code pack_padded_sequence} and the layer with {@code mask_zero=true} on the same zero-padded
 * input, the embedding case with {@code padding_idx} likewise) loads PyTorch's parameters <em>by name</em> into the
 * layer's declared parameters, which must match PyTorch's names and shapes one for one, then
 * compares the output, the input gradient and every parameter gradient with PyTorch's float64
 * results: {@code |actual - expected| <= 1e-4·|expected| + 1e-5}.
 */
class PyTorchParityTest {
    private static final double RELATIVE = 1e-4;
    /** float32 rounding of sums of a few dozen products near zero. */
    private static final double ABSOLUTE = 1e-5;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, LayerType> LAYERS = Map.of("lstm", new Lstm(), "gru", new Gru(), "rnn", new Rnn(),
            "embedding", new Embedding());

    private static Backend cpu;
    private static SafeTensors.Contents fixtures;

    @BeforeAll static void start() throws IOException, URISyntaxException {
        // Three threads, so the backend's parallel paths run too.
        cpu = new CpuBackendProvider().create(new BackendOptions(3, null));
        URL url = PyTorchParityTest.class.getResource("/fixtures/recurrent.safetensors");
        if (url == null) throw new IllegalStateException("missing fixtures; run tools/fixtures/recurrent/make_recurrent_fixtures.py");
        fixtures = SafeTensors.read(Path.of(url.toURI()));
    }

    @AfterAll static void stop() { cpu.close(); }

    @TestFactory Stream<DynamicTest> everyCaseMatchesPyTorch() {
        assertEquals(15, fixtures.metadata().size(), "cases in the fixture file");
        return fixtures.metadata().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> check(name)));
    }

    private static void check(String name) throws IOException {
        JsonNode s = JSON.readTree(fixtures.metadata().get(name));
        LayerType type = LAYERS.get(s.get("layer").asText());
        int batch = s.get("batch").asInt();
        NamedTensor x = tensor(name, "x");
        try (LayerHarness h = LayerHarness.compile(type, arguments(type, s), batch, cpu, x.shape().dropFirst())) {
            // The layer's parameters, found in the fixture under PyTorch's names with PyTorch's shapes.
            List<String> pytorchNames = new ArrayList<>();
            for (NamedTensor t : fixtures.tensors()) {
                if (!t.name().startsWith(name + ".")) continue;
                String key = t.name().substring(name.length() + 1);
                if (key.startsWith("weight") || key.startsWith("bias")) pytorchNames.add(key);
            }
            assertEquals(pytorchNames, h.parameters().stream().map(ParamDecl::name).toList(), "parameter names, in state_dict order");
            for (ParamDecl p : h.parameters()) {
                NamedTensor t = tensor(name, p.name());
                assertEquals(t.shape(), p.shape(), p.name() + " shape");
                h.setParam(p.name(), t.data());
            }
            h.setInput(0, x.data());
            h.training(true);
            assertEquals(tensor(name, "y").shape(), h.outputShape(), "output shape");
            assertClose(name + " output", tensor(name, "y").data(), h.forward());
            h.backward(tensor(name, "dy").data());
            if (!type.name().equals("embedding")) assertClose(name + " dx", tensor(name, "dx").data(), h.gradInput(0));
            for (ParamDecl p : h.parameters()) assertClose(name + " d" + p.name(), tensor(name, "grad." + p.name()).data(), h.gradParam(p.name()));
        }
    }

    /** The script arguments equivalent to the PyTorch module's settings. */
    private static LayerArgs arguments(LayerType type, JsonNode s) {
        if (type instanceof Embedding) {
            Map<String, Object> named = s.has("padding_idx") ? Map.of("padding_idx", s.get("padding_idx").asInt()) : Map.of();
            return type.schema().bind(List.of(s.get("num").asInt(), s.get("dim").asInt()), named);
        }
        Map<String, Object> named = new LinkedHashMap<>();
        named.put("layers", s.get("layers").asInt());
        named.put("bidirectional", s.get("bidirectional").asBoolean());
        named.put("sequences", s.get("sequences").asBoolean());
        named.put("bias", s.get("bias").asBoolean());
        if (s.has("nonlinearity")) named.put("nonlinearity", s.get("nonlinearity").asText());
        if (s.has("mask_zero")) named.put("mask_zero", s.get("mask_zero").asBoolean());
        return type.schema().bind(List.of(s.get("hidden").asInt()), named);
    }

    private static NamedTensor tensor(String caseName, String tensor) {
        NamedTensor t = fixtures.get(caseName + "." + tensor);
        if (t == null) throw new IllegalStateException("fixture has no tensor " + caseName + "." + tensor);
        return t;
    }

    private static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        int misses = 0;
        int first = -1;
        for (int i = 0; i < expected.length; i++) {
            double allowed = RELATIVE * Math.abs(expected[i]) + ABSOLUTE;
            if (!(Math.abs((double) actual[i] - expected[i]) <= allowed)) {
                if (first < 0) first = i;
                misses++;
            }
        }
        if (misses > 0)
            fail(what + ": " + misses + " of " + expected.length + " elements outside " + RELATIVE + " relative + " + ABSOLUTE
                    + "; first at " + first + ": expected " + expected[first] + " but was " + actual[first]);
    }
}
