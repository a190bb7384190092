package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code nn completion bash}: the script names every command, and bash really completes with it. */
class CompletionCommandTest {
    @TempDir Path dir;

    @Test void theScriptNamesEveryCommand() {
        CliRunner.Result r = CliRunner.run("completion", "bash");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\ncomplete -F _complete_nn -o default nn "), "registers for 'nn'");
        // The top level's list of commands, as the completion function offers them after 'nn '.
        Matcher top = Pattern.compile("function _complete_nn\\(\\) \\{.*?local commands=\"([^\"]*)\"", Pattern.DOTALL).matcher(r.out());
        assertTrue(top.find(), "no command list for nn");
        Set<String> offered = Set.of(top.group(1).split(" "));
        for (String command : NnCommand.commandLine().getSubcommands().keySet()) {
            assertTrue(offered.contains(command), command + " is not completed: " + offered);
        }
        assertTrue(offered.contains("completion"), offered.toString());
        assertEquals(r.out(), CliRunner.run("completion", "zsh").out(), "one script serves both shells");
    }

    /** Sources the script in bash and asks its completion function what it offers for partial command lines. */
    @Test void bashCompletesCommandsSubcommandsAndOptions() throws Exception {
        Path script = dir.resolve("nn.bash");
        Files.writeString(script, CliRunner.run("completion", "bash").out());
        assertEquals(List.of("train"), complete(script, "nn", "tr"));
        assertEquals(List.of("completion"), complete(script, "nn", "compl"));
        assertEquals(List.of("check"), complete(script, "nn", "config", "ch"));
        assertEquals(List.of("--backend", "--batch"), complete(script, "nn", "summary", "--ba"));
        assertEquals(List.of("--verbose"), complete(script, "nn", "layers", "--verb"), "the global option reaches every command");
    }

    @Test void anUnknownShellIsBadInput() {
        CliRunner.Result r = CliRunner.run("completion", "fish");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertEquals("", r.out());
        assertEquals("nn: completion: unknown shell 'fish'; nn completes in bash and zsh\n", r.err());
    }

    private static List<String> complete(Path script, String... words) throws Exception {
        String line = String.join(" ", words);
        String program = "source '" + script + "'\n"
                + "COMP_WORDS=(" + line + "); COMP_CWORD=" + (words.length - 1) + "; COMP_LINE='" + line + "'; COMP_POINT=" + line.length() + "\n"
                + "_complete_nn 2>/dev/null\n"
                + "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        Process bash = new ProcessBuilder("bash", "-c", program).redirectErrorStream(true).start();
        String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(bash.waitFor(30, TimeUnit.SECONDS), "bash did not finish");
        assertEquals(0, bash.exitValue(), out);
        return out.lines().map(String::strip).filter(s -> !s.isEmpty()).sorted().toList();
    }
}
