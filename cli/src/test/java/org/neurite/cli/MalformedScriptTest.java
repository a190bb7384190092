package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What a user sees for a bad script: the exact positioned message with the source line and a
 * caret, exit status 2, and never a stack trace.
 */
class MalformedScriptTest {
    @TempDir Path dir;

    static Stream<Arguments> scripts() {
        String header = "model M {\n    input x: [1, 28, 28]\n";
        return Stream.of(
                Arguments.of("unknown layer", header + "    c1 = conv3d(6, kernel=5)\n    output y = flatten -> dense(10)\n}\n",
                        "S:3:10: error: unknown layer 'conv3d'; did you mean 'conv'?\n"
                                + "        c1 = conv3d(6, kernel=5)\n"
                                + "             ^~~~~~\n"),
                Arguments.of("misspelt parameter", header + "    c1 = conv(6, kernal=5)\n    output y = flatten -> dense(10)\n}\n",
                        "S:3:18: error: unknown parameter 'kernal' for 'conv'; did you mean 'kernel'?\n"
                                + "        c1 = conv(6, kernal=5)\n"
                                + "                     ^~~~~~\n"),
                Arguments.of("wrong type", header + "    c1 = conv(\"six\", kernel=5)\n    output y = flatten -> dense(10)\n}\n",
                        "S:3:15: error: conv: parameter 'channels' expects int, got string \"six\"\n"
                                + "        c1 = conv(\"six\", kernel=5)\n"
                                + "                  ^~~~~\n"),
                Arguments.of("unclosed brace", header + "    c1 = conv(6, kernel=5)\n    output y = flatten -> dense(10)\n",
                        "S:1:9: error: unclosed '{' (the file ends before its closing '}')\n"
                                + "    model M {\n"
                                + "            ^\n"),
                Arguments.of("shape mismatch", header + "    c1 = conv(6, kernel=5)\n    output y = dense(10)\n}\n",
                        "S:4:16: error: dense: expects [features] per sample, got [6, 24, 24]; put flatten before dense\n"
                                + "        output y = dense(10)\n"
                                + "                   ^~~~~~~~~\n"),
                Arguments.of("empty file", "", "S:1:1: error: no model defined\n"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scripts")
    void badScriptsGivePositionedMessagesAndExitTwo(String name, String script, String expected) throws IOException {
        Path file = dir.resolve("bad.nn");
        Files.writeString(file, script);
        CliRunner.Result r = CliRunner.run("summary", file.toString());
        assertEquals(2, r.exit());
        assertEquals(expected.replace("S:", file + ":"), r.err());
        assertEquals("", r.out());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("scripts")
    void trainRefusesTheSameScriptsBeforeTouchingData(String name, String script, String expected) throws IOException {
        Path file = dir.resolve("bad.nn");
        Files.writeString(file, script);
        CliRunner.Result r = CliRunner.run("train", file.toString(), "--out", dir.resolve("run").toString());
        assertEquals(2, r.exit());
        assertEquals(expected.replace("S:", file + ":"), r.err());
        assertFalse(Files.exists(dir.resolve("run")), "nothing is written for a bad script");
    }

    @org.junit.jupiter.api.Test
    void binaryGarbageIsNamedAsSuch() throws IOException {
        Path file = dir.resolve("garbage.nn");
        byte[] elf = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0, 1, 0, 0, 0, (byte) 0xd0, 0x5f};
        Files.write(file, elf);
        CliRunner.Result r = CliRunner.run("summary", file.toString());
        assertEquals(2, r.exit());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        assertEquals(file + ":1:25: error: file is not valid UTF-8 (byte 0xD0 at offset 24); is it a binary file?",
                r.err().lines().findFirst().orElse(""));
    }

    @org.junit.jupiter.api.Test
    void missingScriptIsBadInput() {
        CliRunner.Result r = CliRunner.run("summary", dir.resolve("nope.nn").toString());
        assertEquals(2, r.exit());
        assertEquals("nn: no such file: " + dir.resolve("nope.nn") + "\n", r.err());
    }

    @org.junit.jupiter.api.Test
    void unknownOptionsAndCommandsAreUsageErrors() {
        CliRunner.Result r = CliRunner.run("summary", "--bogus", "x.nn");
        assertEquals(2, r.exit());
        assertEquals("nn: Unknown option: '--bogus'", r.err().lines().findFirst().orElse(""));
        CliRunner.Result r2 = CliRunner.run("trian");
        assertEquals(2, r2.exit());
        assertFalse(r2.err().contains("\tat "), r2.err());
    }
}
