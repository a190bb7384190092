package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.neurite.backend.StepControl;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.cpu.CpuBackendProvider;
import org.neurite.backend.cpu.CpuKernelChoice;
import org.neurite.backend.opencl.ClBackendProvider;
import org.neurite.backend.opencl.ClDeviceInfo;
import org.neurite.data.DatasetLocator;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSpec;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.NeuriteRuntime;

/**
 * {@code --json} on summary, predict, layers, backends and config check: one JSON object on
 * standard output whose values are checked against the model's arithmetic, PyTorch's outputs and
 * the runtime's own registries; and a failure is the same with {@code --json} as without.
 */
class JsonOutputTest {
    private static final Path FIXTURES = Path.of("src/test/resources/interop");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path dir;

    /** Runs {@code nn ARGS}, expects success and exactly one JSON document (one line) on standard output. */
    private static JsonNode json(String... args) throws Exception {
        CliRunner.Result r = CliRunner.run(args);
        assertEquals(0, r.exit(), r.err());
        assertEquals(1, r.out().lines().count(), r.out());
        return JSON.readTree(r.out());
    }

    @Test void summaryHasTheShapesParametersFlopsAndMemoryOfTheModel() throws Exception {
        String cnn = FIXTURES.resolve("cnn.nn").toString();
        JsonNode s = json("summary", cnn, "--batch", "10", "--json");
        assertEquals("InteropCNN", s.get("model").asText());
        assertEquals(cnn, s.get("file").asText());
        assertEquals("[{\"name\":\"image\",\"shape\":[1,12,12]}]", s.get("inputs").toString());
        assertEquals("[{\"name\":\"logits\",\"shape\":[3]}]", s.get("outputs").toString());
        // conv 4x1x3x3+4, grouped conv 6x(4/2)x3x3+6, dense 24->8, dense 8->3
        Map<String, Long> params = Map.of("c1", 40L, "c2", 114L, "f", 200L, "logits", 27L);
        List<String> names = new ArrayList<>();
        for (JsonNode node : s.get("nodes")) {
            names.add(node.get("name").asText());
            assertEquals(params.getOrDefault(node.get("name").asText(), 0L), node.get("params").asLong(), node.toString());
        }
        assertEquals(List.of("c1", "c1.relu", "c1.maxpool", "c2", "c2.relu", "c2.avgpool", "f.flatten", "f", "f.tanh", "logits"), names);
        assertEquals("[6,4,4]", s.get("nodes").get(3).get("shape").toString());
        assertEquals("[\"c1.maxpool\"]", s.get("nodes").get(3).get("inputs").toString());
        assertEquals(381, s.get("parameters").asLong());
        assertEquals(381, s.get("trainable_parameters").asLong());
        assertEquals("{\"name\":\"c2.weight\",\"trainable\":true,\"shape\":[6,2,3,3]}", s.get("parameter_tensors").get(2).toString());
        // The text summary of the same model states the same FLOPs.
        Matcher flops = Pattern.compile("Forward FLOPs per sample: ([\\d,]+)").matcher(CliRunner.run("summary", cnn).out());
        assertTrue(flops.find());
        assertEquals(Long.parseLong(flops.group(1).replace(",", "")), s.get("flops_per_sample").asLong());

        // Memory as the engine's planner counts it: every parameter and, for training, a gradient and the
        // optimiser's slots per (trainable) parameter; each total is the sum of its parts.
        JsonNode memory = s.get("memory");
        assertEquals(10, memory.get("batch").asInt());
        JsonNode training = memory.get("training"), inference = memory.get("inference");
        assertEquals(4 * 381, training.get("parameters").asLong());
        assertEquals(4 * 381, training.get("gradients").asLong());
        // Optimiser state: its slots per parameter, plus the training step's status tensor on the CPU (read every
        // step): the step control (clip factor, skip flag) and one row of loss sum, correct rows and squared norm.
        assertEquals(4L * 381 * memory.get("optimizer_slots_per_parameter").asInt() + 4L * (StepControl.SIZE + 3),
                training.get("optimizer_state").asLong());
        assertEquals(4 * 381, inference.get("parameters").asLong());
        for (JsonNode plan : List.of(training, inference)) {
            long parts = 0;
            for (String part : List.of("parameters", "gradients", "optimizer_state", "activations", "activation_gradients", "layer_state")) {
                parts += plan.path(part).asLong();
            }
            assertEquals(parts, plan.get("total").asLong(), plan.toString());
        }
    }

    /**
     * Labels are the train section's class names, one per output: a ten-way classifier trained on
     * Fashion-MNIST gets them; the same layers without a train section, or with three outputs, get
     * none (the defaults' dataset is not what such a model learnt).
     */
    @Test void predictNamesClassesOnlyWhenTheTrainSectionDoes() throws Exception {
        String layers = """
                model Linear {
                    input image: [1, 28, 28]
                    output logits = flatten -> dense(%d)
                }
                """;
        String train = "train Linear { data = fashion_mnist; loss = softmax_cross_entropy; optimizer = sgd(lr=0.1) }\n";
        Path input = dir.resolve("x.safetensors");
        float[] x = new float[784];
        for (int i = 0; i < x.length; i++) x[i] = (i % 29) / 29f;
        org.neurite.io.SafeTensors.write(input, List.of(new org.neurite.io.NamedTensor("x", org.neurite.tensor.Shape.of(1, 1, 28, 28), x)),
                java.util.Map.of());
        List<String> fashion = DatasetLocator.classNames("fashion_mnist");
        for (int classes : new int[] {10, 3}) {
            float[] w = new float[classes * 784];
            for (int i = 0; i < w.length; i++) w[i] = ((i * 7919) % 13 - 6) / 100f;
            Path weights = dir.resolve("w" + classes + ".safetensors");
            org.neurite.io.SafeTensors.write(weights, List.of(
                    new org.neurite.io.NamedTensor("logits.weight", org.neurite.tensor.Shape.of(classes, 784), w),
                    new org.neurite.io.NamedTensor("logits.bias", org.neurite.tensor.Shape.of(classes), new float[classes])), java.util.Map.of());
            for (boolean withTrain : new boolean[] {true, false}) {
                Path script = java.nio.file.Files.writeString(dir.resolve("linear" + classes + withTrain + ".nn"),
                        layers.formatted(classes) + (withTrain ? train : ""));
                JsonNode row = json("predict", script.toString(), "--weights", weights.toString(), "--input", input.toString(), "--json")
                        .get("predictions").get(0);
                if (withTrain && classes == 10) assertEquals(fashion.get(row.get("class").asInt()), row.get("label").asText());
                else assertFalse(row.has("label"), classes + " classes, train section " + withTrain + ": " + row);
            }
        }
    }

    @Test void predictPrintsPyTorchsClassesAndProbabilities() throws Exception {
        JsonNode p = json("predict", FIXTURES.resolve("cnn.nn").toString(), "--weights", FIXTURES.resolve("cnn.safetensors").toString(),
                "--input", FIXTURES.resolve("cnn_input.safetensors").toString(), "--json");
        assertEquals("InteropCNN", p.get("model").asText());
        assertEquals(5, p.get("count").asInt());
        assertFalse(p.has("output"));
        float[] y = org.neurite.io.SafeTensors.read(FIXTURES.resolve("cnn_expected.safetensors")).get("y").data();
        JsonNode rows = p.get("predictions");
        assertEquals(5, rows.size());
        for (int i = 0; i < 5; i++) {
            JsonNode row = rows.get(i);
            assertEquals(i, row.get("index").asInt());
            double max = Math.max(y[i * 3], Math.max(y[i * 3 + 1], y[i * 3 + 2]));
            double sum = 0;
            for (int c = 0; c < 3; c++) sum += Math.exp(y[i * 3 + c] - max);
            int best = 0;
            for (int c = 0; c < 3; c++) {
                if (y[i * 3 + c] > y[i * 3 + best]) best = c;
                assertEquals(Math.exp(y[i * 3 + c] - max) / sum, row.get("probabilities").get(c).asDouble(), 1e-5, "row " + i);
            }
            assertEquals(best, row.get("class").asInt(), "row " + i);
            assertFalse(row.has("label"), "the script has no train section, so its classes have no names");
        }

        // With --output the rows go to the file, and standard output says where.
        Path file = dir.resolve("p.json");
        JsonNode written = json("predict", FIXTURES.resolve("cnn.nn").toString(), "--weights", FIXTURES.resolve("cnn.safetensors").toString(),
                "--input", FIXTURES.resolve("cnn_input.safetensors").toString(), "--output", file.toString(), "--json");
        assertEquals(file.toString(), written.get("output").asText());
        assertEquals(5, written.get("count").asInt());
        assertFalse(written.has("predictions"));
        assertEquals(rows, JSON.readTree(file.toFile()));
    }

    @Test void layersListsEveryRegisteredLayerWithItsParameters() throws Exception {
        JsonNode all = json("layers", "--json").get("layers");
        List<LayerType> registered = List.copyOf(NeuriteRuntime.discover().layers().all());
        assertEquals(registered.size(), all.size());
        for (int i = 0; i < registered.size(); i++) {
            LayerType t = registered.get(i);
            JsonNode layer = all.get(i);
            assertEquals(t.name(), layer.get("name").asText());
            assertEquals(t.doc(), layer.get("doc").asText());
            List<ParamSpec> specs = t.schema().specs();
            assertEquals(specs.size(), layer.get("params").size(), t.name());
            for (int k = 0; k < specs.size(); k++) {
                assertEquals(specs.get(k).name(), layer.get("params").get(k).get("name").asText());
                assertEquals(specs.get(k).type().display(), layer.get("params").get(k).get("type").asText());
                assertEquals(specs.get(k).required(), layer.get("params").get(k).get("required").asBoolean());
            }
        }
        JsonNode dense = json("layers", "dense", "--json").get("layers");
        assertEquals(1, dense.size());
        JsonNode units = dense.get(0).get("params").get(0);
        assertEquals("units", units.get("name").asText());
        assertTrue(units.get("required").asBoolean());
        assertTrue(units.get("default").isNull());
        assertEquals(1.0, units.get("min").asDouble());
        assertTrue(units.get("max").isNull());
        JsonNode bias = dense.get(0).get("params").get(1);
        assertEquals("bias", bias.get("name").asText());
        assertTrue(bias.get("default").isBoolean() && bias.get("default").asBoolean());
        assertTrue(dense.get(0).get("origin").asText().startsWith("org.neurite.plugins.core.Dense ("), dense.toString());
        assertEquals(0, dense.get(0).get("kernels").size());
    }

    @Test void backendsSayWhichCanRunAndListTheOpenClDevices() throws Exception {
        JsonNode backends = json("backends", "--json").get("backends");
        Map<String, BackendProvider> found = NeuriteRuntime.discover().backends();
        assertEquals(List.copyOf(found.keySet()), names(backends));
        for (JsonNode b : backends) {
            BackendProvider provider = found.get(b.get("name").asText());
            String why = provider.availability();
            assertEquals(why == null, b.get("available").asBoolean());
            assertEquals(why, b.get("reason").isNull() ? null : b.get("reason").asText());
            if (provider instanceof ClBackendProvider cl) {
                List<ClDeviceInfo> devices = cl.devices();
                assertEquals(devices.size(), b.get("devices").size());
                for (int i = 0; i < devices.size(); i++) {
                    JsonNode d = b.get("devices").get(i);
                    assertEquals(devices.get(i).index(), d.get("index").asInt());
                    assertEquals(devices.get(i).name(), d.get("name").asText());
                    assertEquals(devices.get(i).type(), d.get("type").asText());
                    assertEquals(devices.get(i).globalMemoryBytes(), d.get("global_memory_bytes").asLong());
                }
            } else {
                assertFalse(b.has("devices"), b.toString());
            }
            if (provider instanceof CpuBackendProvider cpu) {
                // The width the build pins for tests (-Dneurite.cpu.vector=features): the CPU's widest.
                CpuKernelChoice k = cpu.kernelChoice();
                JsonNode kernels = b.get("kernels");
                assertEquals(k.path(), kernels.get("path").asText());
                assertEquals(k.vectorBits(), kernels.get("vector_bits").asInt());
                assertTrue(k.path().equals("plain Java") || k.vectorBits() == 256 || k.vectorBits() == 512, kernels.toString());
                // 8 x 32 at 512 bits, 6 x 16 at 256, 6 x 32 on the plain path (16 lanes).
                assertEquals(k.vectorBits() == 512 ? "8x32" : k.vectorBits() == 256 ? "6x16" : "6x32", kernels.get("gemm_tile").asText());
                assertEquals(k.source(), kernels.get("source").asText());
                assertEquals(k.reason(), kernels.get("reason").asText());
                assertEquals(cpu.heapPages().isEmpty() ? null : cpu.heapPages(), b.get("heap_pages").isNull() ? null : b.get("heap_pages").asText());
            } else {
                assertFalse(b.has("kernels"), b.toString());
            }
        }
        assertTrue(backends.get(0).get("available").asBoolean(), "cpu runs everywhere: " + backends);
    }

    @Test void configCheckPrintsTheResolvedDeployment() throws Exception {
        Path yaml = dir.resolve("deploy.yaml");
        Files.writeString(yaml, "backend: cpu\nthreads: 3\nseed: 42\nlog_level: debug\ndevice: 1\nspark:\n  master: \"local[2]\"\n");
        JsonNode c = json("config", "check", yaml.toString(), "--json");
        assertEquals(yaml.toString(), c.get("file").asText());
        JsonNode d = c.get("deployment");
        assertEquals("cpu", d.get("backend").asText());
        assertEquals(3, d.get("threads").asInt());
        assertEquals(42, d.get("seed").asLong());
        assertEquals("debug", d.get("log_level").asText());
        assertEquals("1", d.get("device").asText());
        assertEquals("[]", d.get("fallback").toString());
        assertFalse(d.has("data"), "a key that is not set is absent: " + d);
        assertEquals("local[2]", d.get("spark").get("master").asText());
        assertEquals("[\"spark\"]", c.get("unchecked").toString(), "the Spark module is not on the cli's class path");
        assertEquals("{\"name\":\"cpu\",\"available\":true,\"reason\":null}", c.get("backend").toString());
    }

    /** With --json as without: nothing on standard output, the message on standard error, exit 2. */
    @Test void aFailureIsTheUsualMessageAndExitStatus() throws Exception {
        Path yaml = dir.resolve("bad.yaml");
        Files.writeString(yaml, "backend: tpu\n");
        CliRunner.Result bad = CliRunner.run("config", "check", yaml.toString(), "--json");
        assertEquals(ExitCodes.BAD_INPUT, bad.exit());
        assertEquals("", bad.out());
        assertTrue(bad.err().startsWith("nn: " + yaml + ": unknown backend 'tpu'; available: cpu"), bad.err());
        assertEquals(bad.err(), CliRunner.run("config", "check", yaml.toString()).err());

        Path missing = dir.resolve("missing.nn");
        CliRunner.Result none = CliRunner.run("summary", missing.toString(), "--json");
        assertEquals(ExitCodes.BAD_INPUT, none.exit());
        assertEquals("", none.out());
        assertEquals("nn: no such file: " + missing + "\n", none.err());
    }

    private static List<String> names(JsonNode array) {
        List<String> names = new ArrayList<>();
        for (JsonNode n : array) names.add(n.get("name").asText());
        return names;
    }
}
