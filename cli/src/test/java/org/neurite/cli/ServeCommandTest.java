package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nn serve}'s refusals before it listens (exit 2, one line, no stack trace) and
 * {@code nn config check} on a deployment with a {@code serve:} section. The server itself is
 * tested in the serving module.
 */
class ServeCommandTest {
    @TempDir Path dir;

    @Test void withoutAModelOrAServeSectionItSaysWhatItNeeds() {
        CliRunner.Result r = CliRunner.run("serve");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("nn serve needs MODEL.nn --weights FILE, or --deploy with a serve: section (docs/serving.md)"), r.err());
    }

    @Test void aScriptNeedsItsWeights() {
        CliRunner.Result r = CliRunner.run("serve", "../examples/lenet5.nn");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("nn serve MODEL.nn needs --weights FILE"), r.err());
    }

    @Test void badBatchingOptionsAreNamedAsTyped() {
        CliRunner.Result r = CliRunner.run("serve", "../examples/lenet5.nn", "--weights", "w.safetensors", "--max-batch", "0");
        assertEquals(2, r.exit());
        assertEquals("nn: --max-batch must be >= 1, got 0\n", r.err());
    }

    @Test void aNameThatIsNotOneSegmentOfTheUrlIsRefused() throws Exception {
        CliRunner.Result r = CliRunner.run("serve", "../examples/lenet5.nn", "--weights", "w.safetensors", "--name", "a/b");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals("nn: --name may hold only letters, digits, '_', '.' and '-', found \"a/b\"\n", r.err());
        Path spaced = Files.copy(Path.of("../examples/lenet5.nn"), dir.resolve("my model.nn"));
        r = CliRunner.run("serve", spaced.toString(), "--weights", "w.safetensors");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals("nn: the model is named after its script, \"my model\", but a model name may hold only letters, digits, '_', '.'"
                + " and '-'; choose one with --name\n", r.err());
    }

    @Test void aHostThatDoesNotResolveIsOneLine() {
        CliRunner.Result r = CliRunner.run("serve", "../examples/lenet5.nn", "--weights", "w.safetensors", "--host", "256.1.1.1");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals("nn: cannot resolve host '256.1.1.1' (serve.host, or --host)\n", r.err());
    }

    @Test void aBadServeSectionIsRefusedWhereItWasWritten() throws Exception {
        Path yaml = dir.resolve("serve.yaml");
        Files.writeString(yaml, "serve:\n  models:\n    - name: m\n      script: m.nn\n      weights: m.safetensors\n      max_delay: 3\n");
        CliRunner.Result r = CliRunner.run("serve", "--deploy", yaml.toString());
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("serve.yaml:6:7: error: unknown key 'serve.models[0].max_delay'; did you mean 'max_delay_ms'?"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test void configCheckPrintsTheServeSectionResolved() throws Exception {
        Path yaml = dir.resolve("serve.yaml");
        Files.writeString(yaml, "serve:\n  port: 9000\n  models:\n    - {name: m, script: m.nn, weights: m.safetensors}\n");
        CliRunner.Result r = CliRunner.run("config", "check", yaml.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("serve:\n  host: 127.0.0.1\n  port: 9000\n  max_body_bytes: 16777216\n  models:\n  - name: m\n"), r.out());
        assertFalse(r.out().contains("not checked"), r.out());
    }

    @Test void aMissingWeightsFileIsBadInput() {
        CliRunner.Result r = CliRunner.run("serve", "../examples/lenet5.nn", "--weights", dir.resolve("none.safetensors").toString(), "--port", "0");
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("none.safetensors"), r.err());
    }
}
