package org.neurite.it.durability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;

/**
 * Ctrl-C during {@code nn train}: a child JVM trains a small model, gets SIGINT ({@code kill -INT}
 * on its own pid) once its first epoch is reported, finishes the step it is in, writes a
 * checkpoint that records where inside the epoch it stopped, and exits with 130 and a message
 * saying how to go on. {@code --resume} then finishes the run, and its weights are bit-identical
 * to those of the same run left alone: the resumed epoch takes the same batches, in the same
 * order, from the same weights and optimiser state.
 */
class CtrlCTest {
    private static final String SCRIPT = """
            model Sum {
                input seq: [10, 2]
                output sum = flatten -> dense(16) -> relu -> dense(1)
            }

            train Sum {
                data = adding(length=10, size=8000, test_size=200); loss = mse
                optimizer = adam(lr=0.002); batch = 8; epochs = 4; seed = 5
            }
            """;
    private static final Pattern STOPPED = Pattern.compile(
            "nn: stopped at step (\\d+), ([\\d,]+) samples into epoch (\\d); checkpoint written to (.+)\\. Continue with: nn train (.+) --resume (.+)");

    @TempDir Path dir;

    @Test
    void ctrlCWritesACheckpointExits130AndResumingGivesTheUninterruptedWeights() throws Exception {
        Path script = Files.writeString(dir.resolve("sum.nn"), SCRIPT);

        Run whole = nn(null, "train", script.toString(), "--out", dir.resolve("whole").toString());
        assertEquals(0, whole.exit(), whole.err());

        Run interrupted = nn("epoch  1/4", "train", script.toString(), "--out", dir.resolve("cut").toString());
        assertEquals(130, interrupted.exit(), interrupted.out() + interrupted.err());
        assertTrue(interrupted.err().contains("nn: interrupted; finishing this step and writing a checkpoint"), interrupted.err());
        Matcher m = STOPPED.matcher(interrupted.err());
        assertTrue(m.find(), interrupted.err());
        int samples = Integer.parseInt(m.group(2).replace(",", ""));
        int epoch = Integer.parseInt(m.group(3));
        assertTrue(epoch >= 2 && samples > 0 && samples < 8000 && samples % 8 == 0, m.group());
        assertEquals(Integer.parseInt(m.group(1)), (epoch - 1) * 1000 + samples / 8, "steps: 1,000 an epoch, one per batch of 8");
        assertEquals(dir.resolve("cut").resolve("checkpoint.safetensors").toString(), m.group(4));
        assertEquals(script.toString(), m.group(5));

        Run resumed = nn(null, "train", script.toString(), "--resume", m.group(6));
        assertEquals(0, resumed.exit(), resumed.err());
        assertTrue(resumed.out().contains("Resuming Sum at epoch " + epoch + " (step " + m.group(1) + ")"), resumed.out());

        List<NamedTensor> expected = SafeTensors.read(dir.resolve("whole/model.safetensors")).tensors();
        SafeTensors.Contents actual = SafeTensors.read(dir.resolve("cut/model.safetensors"));
        assertEquals(expected.stream().map(NamedTensor::name).toList(), actual.tensors().stream().map(NamedTensor::name).toList());
        for (NamedTensor t : expected) {
            float[] a = t.data();
            float[] b = actual.get(t.name()).data();
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]), t.name() + "[" + i + "] differs after resuming");
            }
        }
    }

    /** What a child {@code nn} printed and how it exited. */
    record Run(int exit, String out, String err) {}

    /**
     * Runs {@code nn args} in a child JVM in {@link #dir}; when {@code interruptAfter} is given,
     * sends the child SIGINT as soon as a line of its output starts with it.
     */
    private Run nn(String interruptAfter, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"), "org.neurite.cli.Main"));
        command.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "nn", ".err");
        Process child = new ProcessBuilder(command).directory(dir.toFile()).redirectError(err.toFile()).start();
        StringBuilder out = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            boolean sent = false;
            for (String line; (line = in.readLine()) != null; ) {
                out.append(line).append('\n');
                if (interruptAfter != null && !sent && line.startsWith(interruptAfter)) {
                    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(child.pid())).inheritIO().start();
                    assertEquals(0, kill.waitFor(), "kill -INT " + child.pid());
                    sent = true;
                }
            }
        } finally {
            if (!child.waitFor(120, TimeUnit.SECONDS)) child.destroyForcibly();
        }
        return new Run(child.waitFor(), out.toString(), Files.readString(err));
    }
}
