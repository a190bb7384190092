package org.neurite.it.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.cli.ExitCodes;
import org.neurite.cli.NnCommand;
import picocli.CommandLine;

/**
 * Plugin folders from the command line ({@code --plugins DIR}) and from a deployment file
 * ({@code plugins: [dir]}), as an operator uses them: {@code nn layers} names the jar each layer
 * and kernel came from, model commands see the plugin's layers, and every broken folder is one
 * line on stderr with exit status 2, never a stack trace.
 */
class PluginCommandLineTest {
    private static final String SCRIPT = """
            model Tiny {
                input x: [4]
                h = dense(8) -> swish -> dense(8) -> mish
                output y = dense(2)
            }
            """;

    @TempDir Path dir;

    private record Result(int exit, String out, String err) {}

    private static Result nn(String... args) {
        CommandLine cli = NnCommand.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    private Path script() throws IOException {
        return Files.writeString(dir.resolve("tiny.nn"), SCRIPT);
    }

    @Test
    void layersNamesTheJarOfEachLayerAndOfItsKernels() throws IOException {
        Path jar = SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");
        Result swish = nn("layers", "swish", "--plugins", dir.resolve("plugins").toString());
        assertEquals(ExitCodes.OK, swish.exit(), swish.err());
        assertEquals(String.join("\n",
                "swish — Swish activation y = x * sigmoid(beta * x), element-wise, with a learned scalar beta [1]; output shape = input shape.",
                "    beta               float              default 1.0      Initial value of the scale beta in x * sigmoid(beta * x); 1 is SiLU.",
                "    learn_beta         bool               default true     Learn beta (one scalar per layer) by gradient descent.",
                "    from com.example.swish.Swish (" + jar + ")",
                "    kernel for opencl from com.example.swish.ClSwish (" + jar + ")",
                "", ""), swish.out());

        Result mish = nn("layers", "mish", "--plugins", dir.resolve("plugins").toString());
        assertEquals(String.join("\n",
                "mish — Mish activation y = x * tanh(softplus(x)), element-wise; output shape = input shape.",
                "    from com.example.swish.Mish (" + jar + ")",
                "    kernel for cpu from com.example.swish.CpuMish (" + jar + ")",
                "    kernel for opencl from com.example.swish.ClMish (" + jar + ")",
                "", ""), mish.out());

        // Without the folder the layer does not exist.
        Result without = nn("layers", "swish");
        assertEquals(ExitCodes.BAD_INPUT, without.exit());
        assertTrue(without.err().startsWith("nn: unknown layer 'swish'"), without.err());
    }

    @Test
    void aModelCommandSeesThePluginsLayersFromTheCommandLineOrTheDeployment() throws IOException {
        Path script = script();
        SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");

        Result missing = nn("summary", script.toString());
        assertEquals(ExitCodes.BAD_INPUT, missing.exit());
        assertTrue(missing.err().contains("unknown layer 'swish'"), missing.err());

        Result fromOption = nn("summary", script.toString(), "--plugins", dir.resolve("plugins").toString());
        assertEquals(ExitCodes.OK, fromOption.exit(), fromOption.err());
        assertTrue(fromOption.out().contains("swish") && fromOption.out().contains("mish"), fromOption.out());

        // A relative folder in a deployment file is resolved against the file's own folder.
        Path deploy = Files.writeString(dir.resolve("deploy.yaml"), "backend: cpu\nplugins: [plugins]\n");
        Result fromDeployment = nn("summary", script.toString(), "--deploy", deploy.toString());
        assertEquals(ExitCodes.OK, fromDeployment.exit(), fromDeployment.err());
        assertEquals(fromOption.out(), fromDeployment.out());

        // Named in both places, the folder is loaded once.
        Result both = nn("summary", script.toString(), "--deploy", deploy.toString(), "--plugins", dir.resolve("plugins").toString());
        assertEquals(ExitCodes.OK, both.exit(), both.err());
    }

    @Test
    void trainAndEvalUseThePluginsLossWithArgumentsOptimizerAndSchedule() throws IOException {
        StringBuilder csv = new StringBuilder("width,kind,height\n");
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        for (int i = 0; i < 64; i++) {
            boolean tall = i % 2 == 0;
            csv.append(String.format(java.util.Locale.ROOT, "%.3f,%s,%.3f%n", random.nextDouble(), tall ? "tall" : "wide",
                    tall ? 2 + random.nextDouble() : random.nextDouble()));
        }
        Files.writeString(dir.resolve("shapes.csv"), csv);
        Path script = Files.writeString(dir.resolve("shapes.nn"), """
                model Shapes {
                    input row: [2]
                    output logits = dense(2)
                }

                train Shapes {
                    data = csv(file="shapes.csv", label="kind")
                    loss = label_smoothing_cross_entropy(epsilon=0.05)
                    optimizer = adagrad(lr=0.5); batch = 8; epochs = 3
                    schedule = multi_step(milestones=[2], gamma=0.5)
                }
                """);
        SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");
        Path out = dir.resolve("run");
        Result without = nn("train", script.toString(), "--threads", "1", "--out", out.toString());
        assertEquals(ExitCodes.BAD_INPUT, without.exit());
        assertTrue(without.err().contains("shapes.nn:8:12: error: unknown loss 'label_smoothing_cross_entropy'"), without.err() + "|" + without.out());

        Result train = nn("train", script.toString(), "--threads", "1", "--out", out.toString(),
                "--plugins", dir.resolve("plugins").toString());
        assertEquals(ExitCodes.OK, train.exit(), train.err());
        assertTrue(Files.exists(out.resolve("model.safetensors")), train.out());
        // The plugin's schedule set each epoch's rate: MultiStepLR(lr=0.5, milestones=[2], gamma=0.5).
        List<String> rates = Files.readAllLines(out.resolve("metrics.jsonl")).stream()
                .map(line -> line.replaceAll(".*\"lr\":([0-9.]+).*", "$1")).toList();
        assertEquals(List.of("0.5", "0.5", "0.25"), rates);
        Result eval = nn("eval", script.toString(), "--weights", out.resolve("model.safetensors").toString(),
                "--plugins", dir.resolve("plugins").toString());
        assertEquals(ExitCodes.OK, eval.exit(), eval.err());
    }

    @Test
    void brokenPluginFoldersAreOneLineWithExitStatusTwo() throws IOException {
        Path script = script();
        Result noFolder = nn("summary", script.toString(), "--plugins", dir.resolve("nowhere").toString());
        assertEquals(new Result(ExitCodes.BAD_INPUT, "", "nn: plugin folder " + dir.resolve("nowhere") + " does not exist\n"), noFolder);

        Files.createDirectories(dir.resolve("junk"));
        Path notAJar = Files.writeString(dir.resolve("junk/swish.jar"), "<html>404</html>");
        Result junk = nn("layers", "--plugins", dir.resolve("junk").toString());
        assertEquals(new Result(ExitCodes.BAD_INPUT, "",
                "nn: plugin jar " + notAJar + " is not a jar file (zip END header not found)\n"), junk);

        Path first = SwishPluginJar.copyInto(dir.resolve("twice"), "a.jar");
        Path second = SwishPluginJar.copyInto(dir.resolve("twice"), "b.jar");
        Result twice = nn("backends", "--plugins", dir.resolve("twice").toString());
        assertEquals(new Result(ExitCodes.BAD_INPUT, "", "nn: layer 'swish' is registered twice: by com.example.swish.Swish ("
                + first + ") and by com.example.swish.Swish (" + second + ")\n"), twice);
    }

    @Test
    void backendsAcceptsPluginFolders() throws IOException {
        SwishPluginJar.copyInto(dir.resolve("plugins"), "example-plugin-swish.jar");
        Result r = nn("backends", "--plugins", dir.resolve("plugins").toString());
        assertEquals(ExitCodes.OK, r.exit(), r.err());
        assertTrue(r.out().contains("cpu: available"), r.out());
    }
}
