package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.config.DeploymentConfig;
import org.neurite.diag.ModelException;

/** The {@code serve:} section: what it reads, the defaults it fills in, and each bad file's exact first line. */
class ServeConfigTest {
    private static DeploymentConfig parse(String yaml) {
        return DeploymentConfig.parse(yaml, "serve.yaml", Path.of("/srv"));
    }

    @Test void readsEverySettingAndFillsInTheDefaults() {
        DeploymentConfig d = parse("""
                backend: cpu
                serve:
                  port: 9000
                  models:
                    - name: lenet5
                      script: lenet5.nn
                      weights: w/lenet5.safetensors
                      max_batch: 64
                      max_delay_ms: 5
                    - name: fashion
                      script: fashion_cnn.nn
                      model: FashionCNN
                      weights: w/fashion.safetensors
                      backend: opencl
                      fallback: [cpu]
                      workers: 2
                      queue_limit: 10
                """);
        ServeConfig c = ServeConfig.from(d.serve());
        assertEquals(new ServeConfig("127.0.0.1", 9000, 16 << 20, List.of(
                new ServeConfig.ModelSpec("lenet5", "lenet5.nn", null, "w/lenet5.safetensors", null, null, 64, 5, 1, 256),
                new ServeConfig.ModelSpec("fashion", "fashion_cnn.nn", "FashionCNN", "w/fashion.safetensors", "opencl", List.of("cpu"),
                        32, 0, 2, 10))), c);
        assertEquals("opencl", c.models().get(1).backendIn(d));
        assertEquals("cpu", c.models().get(0).backendIn(d));
        assertEquals(Path.of("/srv/w/lenet5.safetensors"), ServeConfig.resolve(c.models().get(0).weights(), Path.of("/srv")));
    }

    @Test void configCheckPrintsTheSectionResolvedAndReadsItBack() {
        DeploymentConfig d = parse("serve:\n  models:\n    - {name: m, script: m.nn, weights: m.safetensors}\n");
        String yaml = d.toYaml();
        assertEquals(true, yaml.contains("""
                serve:
                  host: 127.0.0.1
                  port: 8080
                  max_body_bytes: 16777216
                  models:
                  - name: m
                    script: m.nn
                    weights: m.safetensors
                    max_batch: 32
                    max_delay_ms: 0
                    workers: 1
                    queue_limit: 256
                """), yaml);
        assertEquals(d, parse(yaml));
    }

    static Stream<Arguments> badSections() {
        String model = "    - name: m\n      script: m.nn\n      weights: m.safetensors\n";
        return Stream.of(
                Arguments.of("serve: 8080\n", "serve.yaml:1:8: error: 'serve' must be a mapping of server settings (port, models, ...), found an integer (8080)"),
                Arguments.of("serve:\n  port: 8080\n", "serve.yaml:1:1: error: the serve section needs 'models': a list of models to serve"),
                Arguments.of("serve:\n  portt: 8080\n  models:\n" + model, "serve.yaml:2:3: error: unknown key 'serve.portt'; did you mean 'port'?"),
                Arguments.of("serve:\n  port: 70000\n  models:\n" + model, "serve.yaml:2:9: error: 'serve.port' must be an integer 0..65535 (0: any free port), found 70000"),
                Arguments.of("serve:\n  models: []\n", "serve.yaml:2:11: error: 'serve.models' must name at least one model"),
                Arguments.of("serve:\n  models:\n    - name: m\n      script: m.nn\n",
                        "serve.yaml:3:7: error: 'serve.models[0]' needs 'weights'"),
                Arguments.of("serve:\n  models:\n" + model + "      max_bach: 8\n",
                        "serve.yaml:6:7: error: unknown key 'serve.models[0].max_bach'; did you mean 'max_batch'?"),
                Arguments.of("serve:\n  models:\n" + model + "      max_batch: 0\n",
                        "serve.yaml:6:18: error: 'serve.models[0].max_batch' must be an integer 1..65536 (1: no batching), found 0"),
                Arguments.of("serve:\n  models:\n" + model + "      workers: two\n",
                        "serve.yaml:6:16: error: 'serve.models[0].workers' must be an integer 1..256, found a string (\"two\")"),
                Arguments.of("serve:\n  models:\n" + model + model,
                        "serve.yaml:6:13: error: model name 'm' is used twice (also serve.models[0])"),
                Arguments.of("serve:\n  models:\n    - name: a/b\n      script: m.nn\n      weights: m.safetensors\n",
                        "serve.yaml:3:13: error: 'serve.models[0].name' may hold only letters, digits, '_', '.' and '-', found \"a/b\""));
    }

    @ParameterizedTest @MethodSource("badSections")
    void aBadSectionIsRefusedWhereItWasWritten(String yaml, String firstLine) {
        ModelException e = assertThrows(ModelException.class, () -> parse(yaml));
        assertEquals(firstLine, e.diagnostics().get(0).headline());
    }

    @Test void aModelSpecRefusesANameThatIsNotOneSegmentOfTheUrl() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ServeConfig.ModelSpec("a/b", "m.nn", null, "m.safetensors", null, null, 1, 0, 1, 1));
        assertEquals("a model name may hold only letters, digits, '_', '.' and '-', found \"a/b\"", e.getMessage());
    }

    /** Each worker owns a backend and the weights: a count no machine could hold is refused before loading. */
    @Test void workersAreBounded() {
        for (int workers : new int[] {0, 257, 100_000}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new ServeConfig.ModelSpec("m", "m.nn", null, "m.safetensors", null, null, 1, 0, workers, 1));
            assertEquals("workers must be 1 to 256 (each holds its own backend and weights), got " + workers, e.getMessage());
        }
        assertEquals(256, new ServeConfig.ModelSpec("m", "m.nn", null, "m.safetensors", null, null, 1, 0, 256, 1).workers());
    }
}
