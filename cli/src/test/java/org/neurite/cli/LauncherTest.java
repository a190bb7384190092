package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/**
 * The {@code nn} launcher (the bash script at the repository root) as a user runs it: no JDK
 * incubator warning, exit statuses and Ctrl-C as the command's own, the JVM's share of memory,
 * a model too big for the heap refused before anything is allocated or written with the numbers
 * and the {@code -Xmx} to use, and an {@link OutOfMemoryError} that still happens as one line.
 *
 * <p>The launcher is copied into a folder laid out as the repository whose "built" jar is a
 * manifest naming this test's class path, with a fresh build stamp, so it runs the classes under
 * test and never starts Maven.
 */
class LauncherTest {
    @TempDir Path dir;

    /** What a child {@code nn} printed, how it exited and how long it took. */
    record Run(int exit, String out, String err, double seconds) {}

    /** The launcher copy, set up on first use. */
    private Path launcher;

    private Path launcher() throws IOException {
        if (launcher != null) return launcher;
        Path root = Files.createDirectories(dir.resolve("neurite"));
        Path target = Files.createDirectories(root.resolve("cli/target/lib"));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        StringBuilder classPath = new StringBuilder();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            classPath.append(Path.of(entry).toAbsolutePath().toUri()).append(' ');
        }
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath.toString().strip());
        try (OutputStream jar = new JarOutputStream(Files.newOutputStream(target.getParent().resolve("neurite-cli-0.1.0-SNAPSHOT.jar")), manifest)) {
            // the manifest is the whole jar
        }
        Files.writeString(target.getParent().resolve(".nn-built"), "");
        launcher = Files.copy(Path.of("../nn"), root.resolve("nn"));
        assertTrue(launcher.toFile().setExecutable(true));
        return launcher;
    }

    /**
     * Runs {@code ./nn args} in {@link #dir} with {@code javaOptions} as NEURITE_JAVA_OPTS (none when null);
     * when {@code interruptAfter} is given, sends the launcher's process SIGINT as soon as a line of its
     * output starts with it.
     */
    private Run nn(String javaOptions, String interruptAfter, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(launcher().toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        Map<String, String> env = builder.environment();
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("NEURITE_SPARK");
        env.remove("NEURITE_DEBUG");
        if (javaOptions == null) env.remove("NEURITE_JAVA_OPTS");
        else env.put("NEURITE_JAVA_OPTS", javaOptions);
        Path err = Files.createTempFile(dir, "nn", ".err");
        long start = System.nanoTime();
        Process child = builder.redirectError(err.toFile()).start();
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
        int exit = child.waitFor();
        return new Run(exit, out.toString(), Files.readString(err), (System.nanoTime() - start) / 1e9);
    }

    /**
     * No incubator warning, the command's own exit status, and the heap: 75% of the machine unless
     * NEURITE_JAVA_OPTS sets -Xmx (the JVM's flags, printed on standard output by -XX:+PrintFlagsFinal).
     */
    @Test void noIncubatorWarningTheCommandsExitStatusAndThreeQuartersOfTheMachine() throws Exception {
        Run version = nn("-XX:+PrintFlagsFinal", null, "--version");
        assertEquals(0, version.exit(), version.err());
        assertTrue(version.out().contains("\nNeurite "), version.out());
        assertEquals("", version.err(), "nothing on standard error, in particular no incubator warning");
        assertTrue(version.out().matches("(?s).*\\n\\s*double MaxRAMPercentage\\s+= 75\\.0+ .*"), "MaxRAMPercentage 75");
        Run missing = nn("-Xmx300m -XX:+PrintFlagsFinal", null, "summary", "missing.nn");
        assertEquals(2, missing.exit());
        assertEquals("nn: no such file: missing.nn\n", missing.err());
        assertTrue(missing.out().matches("(?s).*\\n\\s*size_t MaxHeapSize\\s+= 314572800 .*"), "-Xmx300m takes precedence");
    }

    /** Images [1, 28, 28] with labels 0..9 for the {@code tensors} data source. */
    private void writeImages(String file, int n) throws IOException {
        float[] x = new float[n * 28 * 28];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 10;
            for (int p = 0; p < 28 * 28; p++) x[i * 28 * 28 + p] = ((i * 31 + p * 7) % 17) / 17f;
        }
        SafeTensors.write(dir.resolve(file), List.of(new NamedTensor("x", Shape.of(n, 1, 28, 28), x), new NamedTensor("y", Shape.of(n), y)),
                Map.of());
    }

    /** A classifier {@code name} of 28x28 images with these layers, trained on {@code train} images and tested on {@code test}, batch 64. */
    private Path script(String name, int train, int test, String layers) throws IOException {
        writeImages("train.safetensors", train);
        writeImages("test.safetensors", test);
        return Files.writeString(dir.resolve(name + ".nn"), """
                model %s {
                    input image: [1, 28, 28]
                %s
                }
                train %s {
                    data = tensors(file="train.safetensors", test="test.safetensors")
                    loss = softmax_cross_entropy
                    optimizer = sgd(lr=0.01, momentum=0.9)
                    batch = 64
                    epochs = 1
                }
                """.formatted(name, layers.indent(4).stripTrailing(), name));
    }

    /**
     * The issue's model: LeNet-5 with a first convolution of 100,000 filters. Its parameters, their gradients
     * (one set per shard of the step) and the SGD velocity alone (651 MiB) exceed a 256 MiB heap, and a
     * shard of 32 samples makes a tensor of 2.5 billion floats: refused before anything is allocated, with every number, no stack trace,
     * no run folder.
     */
    @Test void aModelTooBigForTheHeapIsRefusedBeforeAnythingIsAllocatedOrWritten() throws Exception {
        Path script = script("Huge", 128, 64, """
                c1 = conv(100000, kernel=5, pad=2) -> relu -> maxpool(2)
                c3 = conv(16, kernel=5) -> relu -> maxpool(2)
                f5 = flatten -> dense(120) -> relu
                output logits = dense(10)
                """);
        Run r = nn("-Xmx256m", null, "train", script.getFileName().toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        assertEquals("", r.out(), "not even the line saying where results go");
        String[] lines = r.err().split("\n");
        assertEquals(4, lines.length, r.err());
        assertTrue(lines[0].matches("nn: model Huge does not fit in memory: training at batch 64 needs \\S+ GiB and a tensor of more than"
                + " 2\\^31-1 elements \\(c1 \\[32, 100000, 28, 28\\]\\), and the Java heap can give \\S+ MiB \\(-Xmx \\S+ MiB, less \\S+ \\S+ in use"
                + " and \\S+ MiB kept spare\\)"), lines[0]);
        // 42,652,426 parameters: 163 MiB each for their values and velocities, and for the gradients of each of the
        // training step's two shards (the CPU backend runs a batch of 64 as two of 32, TrainStep).
        assertTrue(lines[1].startsWith("  counted: parameters 163 MiB, parameter gradients 325 MiB, sgd state 163 MiB, activations "), lines[1]);
        // Training compiles batch 32 twice (the two shards); the confusion matrix at the end runs the test split forward in calls
        // of 64, each two shards of 32 (Predictor).
        assertTrue(lines[1].endsWith(" (compiled at batch 32, for the second shard of each step at 32, and forward only at 32)"), lines[1]);
        assertEquals("  largest batch that fits: none: the parameters, their gradients and the sgd state alone need 651 MiB", lines[2]);
        // c1's output is 78.4 million floats a sample: 27 samples stay under 2^31 elements, and both the training step and
        // the predictor run a batch of 54 as two shards of 27.
        assertTrue(lines[3].matches("  or give Java more heap: NEURITE_JAVA_OPTS=-Xmx\\d+g for batch 54, the largest whose tensors can be"
                + " allocated \\(this machine has .*\\)"), lines[3]);
        assertFalse(Files.exists(dir.resolve("runs")), "no run folder");
        System.out.printf("refused in %.2f s%n", r.seconds());
    }

    /**
     * A batch the refusal says fits does train in the same heap: 2,000 pointwise filters keep
     * about 30 MB of activations, their gradients and pooling indices a sample, with little to
     * compute; 32 training and 16 test images (batches of 32 and 16 at batch 64) need 1.4 GB.
     */
    @Test void theLargestBatchThatFitsTrains() throws Exception {
        Path script = script("Wide", 32, 16, """
                c1 = conv(2000, kernel=1) -> relu -> maxpool(2)
                output logits = globalavgpool -> dense(10)
                """);
        Run refused = nn("-Xmx512m", null, "train", script.getFileName().toString());
        assertEquals(2, refused.exit(), refused.out() + refused.err());
        Matcher fits = Pattern.compile("\\n  largest batch that fits: (\\d+) \\(--batch \\1\\)\\n").matcher(refused.err());
        assertTrue(fits.find(), refused.err());
        assertTrue(refused.err().contains("\n  or give Java more heap: NEURITE_JAVA_OPTS=-Xmx"), refused.err());
        Run trained = nn("-Xmx512m", null, "train", script.getFileName().toString(), "--batch", fits.group(1), "-q");
        assertEquals(0, trained.exit(), trained.out() + trained.err());
        assertTrue(Files.exists(dir.resolve("runs/Wide/model.safetensors")));
    }

    /** Memory the planner does not see (a generated dataset of 1.6 GB in a 256 MiB heap) runs out: one line, exit 1. */
    @Test void anOutOfMemoryErrorIsOneLine() throws Exception {
        Files.writeString(dir.resolve("sums.nn"), """
                model Sums {
                    input seq: [1000, 2]
                    output sum = flatten -> dense(1)
                }
                train Sums {
                    data = adding(length=1000, size=200000, test_size=10); loss = mse
                    optimizer = sgd(lr=0.01); batch = 8; epochs = 1
                }
                """);
        Run r = nn("-Xmx256m", null, "train", "sums.nn");
        assertEquals(1, r.exit(), r.out() + r.err());
        assertTrue(r.err().matches("nn: out of memory \\(Java heap space\\) with a Java heap of at most 2\\d\\d MiB; give Java more heap,"
                + " e\\.g\\. NEURITE_JAVA_OPTS=-Xmx1g, or use a smaller batch or model\n"), r.err());
    }

    /** Ctrl-C through the launcher: the JVM gets the signal, stops after its step, says how to go on, exits 130. */
    @Test void ctrlCStopsTrainingAndExits130() throws Exception {
        Files.writeString(dir.resolve("sum.nn"), """
                model Sum {
                    input seq: [10, 2]
                    output sum = flatten -> dense(16) -> relu -> dense(1)
                }
                train Sum {
                    data = adding(length=10, size=8000, test_size=200); loss = mse
                    optimizer = adam(lr=0.002); batch = 8; epochs = 4; seed = 5
                }
                """);
        Run r = nn(null, "epoch  1/4", "train", "sum.nn", "--out", "cut");
        assertEquals(130, r.exit(), r.out() + r.err());
        assertTrue(r.err().startsWith("nn: interrupted; finishing this step and writing a checkpoint"), r.err());
        assertTrue(r.err().contains("nn: stopped at step "), r.err());
        assertTrue(Files.exists(dir.resolve("cut/checkpoint.safetensors")));
    }
}
