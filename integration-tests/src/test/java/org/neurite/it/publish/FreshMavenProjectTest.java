package org.neurite.it.publish;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Neurite as a Java team adopts it: a new Maven project outside the repository
 * ({@code src/test/resources/fresh-project}) imports {@code neurite-bom}, names its Neurite
 * dependencies without versions, compiles against the installed artifacts, and its program trains
 * LeNet-5 for a few steps and predicts, run by a plain {@code java -cp} with no JVM flag at all: the
 * CPU backend takes its plain-Java path, since {@code jdk.incubator.vector} is not added.
 *
 * <p>The artifacts must be the ones this build made: {@code mvn install} (the README's test command)
 * installs every module before this one runs. Under {@code mvn verify} the local repository may hold
 * an older build, so the test is skipped unless the installed engine jar is byte for byte the one in
 * {@code engine/target}.
 */
class FreshMavenProjectTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final String VERSION = System.getProperty("neurite.it.version", "");
    private static final Path LOCAL_REPOSITORY = Path.of(System.getProperty("neurite.it.localRepository",
            System.getProperty("user.home") + "/.m2/repository"));

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aProjectThatImportsTheBomTrainsAndPredictsWithoutJvmFlags(@TempDir Path project) throws Exception {
        assumeTrue(!VERSION.isEmpty(), "run through Maven (neurite.it.version is set by the pom)");
        String engineJar = "neurite-engine-" + VERSION + ".jar";
        Path installed = LOCAL_REPOSITORY.resolve("org/neurite/neurite-engine/" + VERSION + "/" + engineJar);
        Path built = REPO.resolve("engine/target/" + engineJar);
        assumeTrue(Files.exists(installed) && Files.exists(built) && Arrays.equals(Files.readAllBytes(installed), Files.readAllBytes(built)),
                "the local repository does not hold this build's artifacts: run mvn install");
        Path mvn = onPath("mvn");
        assumeTrue(mvn != null, "no mvn on the PATH");

        copyTemplate(project);
        List<String> build = new ArrayList<>(List.of(mvn.toString(), "-B", "-q", "-o", "-Dmaven.repo.local=" + LOCAL_REPOSITORY,
                "compile", "dependency:build-classpath", "-Dmdep.outputFile=classpath.txt", "-Dmdep.includeScope=runtime"));
        Result compiled = run(build, project, 240);
        assertEquals(0, compiled.exit, "the fresh project builds against the installed artifacts:\n" + compiled.output);

        String classpath = project.resolve("target/classes") + File.pathSeparator
                + Files.readString(project.resolve("classpath.txt")).trim();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // No --add-modules, no -Xss, no --add-opens: the command a Java developer types.
        Result ran = run(List.of(java.toString(), "-cp", classpath, "com.example.app.TrainDigits",
                REPO.resolve("examples/lenet5.nn").toString(), "512"), project, 180);
        assertEquals(0, ran.exit, ran.output);
        assertFalse(ran.output.contains("Exception"), ran.output);
        // The CPU backend says once, on stderr, that it runs plain Java and how to get the Vector API path.
        String notice = "neurite: the cpu backend runs plain Java loops; start the JVM with --add-modules jdk.incubator.vector";
        assertEquals(1, ran.output.lines().filter(l -> l.startsWith(notice)).count(), ran.output);
        assertFalse(ran.output.contains("WARNING: Using incubator modules"), "the Vector API module was not loaded:\n" + ran.output);

        double first = Double.parseDouble(line(ran.output, "epoch 1 loss: "));
        double second = Double.parseDouble(line(ran.output, "epoch 2 loss: "));
        assertTrue(Double.isFinite(first) && second < first, "the second epoch's loss falls below the first's: " + first + " -> " + second);
        double accuracy = Double.parseDouble(line(ran.output, "test accuracy: "));
        // 16 steps on 512 images: a model that learnt nothing scores about 0.1.
        assertTrue(accuracy > 0.4, "test accuracy " + accuracy + "\n" + ran.output);
        int[] predicted = ints(line(ran.output, "predicted: "));
        int[] labels = ints(line(ran.output, "labels: "));
        assertEquals(8, predicted.length);
        for (int c : predicted) assertTrue(c >= 0 && c < 10, "a Fashion-MNIST class: " + c);
        int correct = 0;
        for (int i = 0; i < 8; i++) if (predicted[i] == labels[i]) correct++;
        assertTrue(correct >= 2, "predictions agree with the labels more than chance: " + correct + " of 8\n" + ran.output);
    }

    /** The template folder with the version filled in. */
    private static void copyTemplate(Path project) throws IOException {
        Path template = Path.of("src/test/resources/fresh-project");
        try (Stream<Path> files = Files.walk(template)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Path target = project.resolve(template.relativize(f).toString());
                Files.createDirectories(target.getParent());
                Files.writeString(target, Files.readString(f).replace("NEURITE_VERSION", VERSION));
            }
        }
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command, Path dir, int seconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        byte[][] out = new byte[1][];
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                out[0] = in.readAllBytes();
            } catch (IOException e) {
                out[0] = ("(reading the output failed: " + e + ")").getBytes(StandardCharsets.UTF_8);
            }
        });
        reader.start();
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            reader.join();
            return new Result(-1, "timed out after " + seconds + " s: " + String.join(" ", command) + "\n"
                    + new String(out[0], StandardCharsets.UTF_8));
        }
        reader.join();
        return new Result(p.exitValue(), new String(out[0], StandardCharsets.UTF_8));
    }

    private static String line(String output, String prefix) {
        return output.lines().filter(l -> l.startsWith(prefix)).findFirst()
                .map(l -> l.substring(prefix.length()))
                .orElseThrow(() -> new AssertionError("no line starting '" + prefix + "' in:\n" + output));
    }

    private static int[] ints(String list) {
        return Arrays.stream(list.replaceAll("[\\[\\] ]", "").split(",")).mapToInt(Integer::parseInt).toArray();
    }

    private static Path onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, command);
            if (Files.isExecutable(candidate)) return candidate;
        }
        return null;
    }
}
