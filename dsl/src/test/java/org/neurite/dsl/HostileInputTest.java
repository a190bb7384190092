package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.diag.ModelException;

/**
 * Input that is not a script at all, or a script mangled at random: the loader must answer with
 * a positioned {@link ModelException} (or a valid script), never another exception, and never
 * print anything itself.
 */
class HostileInputTest {
    private final ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);

    @Test
    void aPngFileIsReportedAsInvalidUtf8AtItsFirstByte(@TempDir Path dir) throws IOException {
        Path png = dir.resolve("cat.png");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
        ModelException e = assertThrows(ModelException.class, () -> loader.load(png));
        assertEquals(png + ":1:1: error: file is not valid UTF-8 (byte 0x89 at offset 0); is it a binary file?",
                e.getMessage());
    }

    @Test
    void aBadByteInsideATextFileIsPositionedOnItsLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("latin1.nn");
        byte[] head = "model M {\n    # caf".getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = new byte[head.length + 2];
        System.arraycopy(head, 0, bytes, 0, head.length);
        bytes[head.length] = (byte) 0xE9; // 'é' in Latin-1, not UTF-8
        bytes[head.length + 1] = '\n';
        Files.write(file, bytes);
        ModelException e = assertThrows(ModelException.class, () -> loader.load(file));
        assertEquals(file + ":2:10: error: file is not valid UTF-8 (byte 0xE9 at offset 19); is it a binary file?\n"
                + "        # caf?\n"
                + "             ^\n", loader.render(e));
    }

    @Test
    void aBadByteIsPositionedOnTheLinesAnEditorShowsAfterAByteOrderMarkAndLoneCarriageReturns(@TempDir Path dir)
            throws IOException {
        Path file = dir.resolve("mac.nn");
        byte[] head = "\uFEFFx\rmodel M {\r    # caf".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[head.length + 2];
        System.arraycopy(head, 0, bytes, 0, head.length);
        bytes[head.length] = (byte) 0xE9;
        bytes[head.length + 1] = '\r';
        Files.write(file, bytes);
        ModelException e = assertThrows(ModelException.class, () -> loader.load(file));
        assertEquals(file + ":3:10: error: file is not valid UTF-8 (byte 0xE9 at offset 24); is it a binary file?\n"
                + "        # caf?\n"
                + "             ^\n", loader.render(e));
        Path bom = dir.resolve("bom.nn");
        Files.write(bom, new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, 'a', (byte) 0xE9});
        assertEquals(bom + ":1:2: error: file is not valid UTF-8 (byte 0xE9 at offset 4); is it a binary file?",
                assertThrows(ModelException.class, () -> loader.load(bom)).getMessage());
    }

    @Test
    void anExecutableIsReportedAsBinary(@TempDir Path dir) throws IOException {
        Path elf = dir.resolve("a.out");
        Files.write(elf, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0});
        ModelException e = assertThrows(ModelException.class, () -> loader.load(elf));
        assertEquals(elf + ":1:1: error: unexpected control character U+007F", e.getMessage());
    }

    @Test
    void randomBytesNeverEscapeAsAnotherException(@TempDir Path dir) throws IOException {
        Random random = new Random(42);
        Path file = dir.resolve("noise.nn");
        for (int i = 0; i < 200; i++) {
            byte[] bytes = new byte[1 + random.nextInt(400)];
            random.nextBytes(bytes);
            Files.write(file, bytes);
            ModelException e = assertThrows(ModelException.class, () -> loader.load(file), "noise " + i);
            assertTrue(loader.render(e).startsWith(file + ":"), loader.render(e));
        }
    }

    @Test
    void mangledScriptsGiveDiagnosticsOrValidScripts() {
        // Deletions, duplications and insertions of characters the grammar cares about, seeded.
        String alphabet = "(){}[],:;=->+-*/#\"\n 0123456789.eE_abcxyz\\@\u00e9\u0000\t";
        Random random = new Random(7);
        int valid = 0;
        for (int i = 0; i < 1500; i++) {
            StringBuilder s = new StringBuilder(ScriptLoaderTest.LENET);
            int edits = 1 + random.nextInt(4);
            for (int k = 0; k < edits; k++) {
                int at = random.nextInt(s.length());
                switch (random.nextInt(3)) {
                    case 0 -> s.deleteCharAt(at);
                    case 1 -> s.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    default -> s.insert(at, s.substring(at, Math.min(s.length(), at + random.nextInt(12))));
                }
            }
            try {
                loader.parse("m.nn", s.toString());
                valid++;
            } catch (ModelException e) {
                String rendered = loader.render(e);
                assertTrue(rendered.startsWith("m.nn:"), rendered);
                assertTrue(e.diagnostics().stream().allMatch(d -> d.span().isKnown()), rendered);
            } catch (RuntimeException e) {
                fail("input " + i + " escaped as " + e + ":\n" + s, e);
            }
        }
        // Some edits (inside comments, extra blanks) leave a valid script; most do not.
        assertTrue(valid > 0 && valid < 1500, "valid=" + valid);
    }

    @Test
    void devicesFoldersAndHugeFilesAreNotReadAsScripts(@TempDir Path dir) throws IOException {
        Path main = dir.resolve("net.nn");
        Files.writeString(main, "use \"/dev/zero\"\nuse \"sub\"\nuse \"big.nn\"\nuse \"\"\nmodel M { input x: [4]; output y = dense(2) }\n");
        Files.createDirectory(dir.resolve("sub"));
        try (var big = java.nio.channels.FileChannel.open(dir.resolve("big.nn"), java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            big.write(java.nio.ByteBuffer.wrap(new byte[] {'#'}), SourceText.MAX_BYTES); // sparse: no disk used
        }
        ModelException e = assertThrows(ModelException.class, () -> loader.load(main));
        assertEquals(List.of(
                main + ":1:5: error: cannot use '/dev/zero': it is not a regular file",
                main + ":2:5: error: cannot use 'sub': it is a folder",
                main + ":3:5: error: cannot use 'big.nn': it is larger than 16 MiB (16777217 bytes)",
                main + ":4:5: error: use needs a file name, e.g. use \"blocks/resnet.nn\""),
                e.diagnostics().stream().map(d -> d.headline()).toList());
        ModelException device = assertThrows(ModelException.class, () -> loader.load(Path.of("/dev/zero")));
        assertEquals("/dev/zero:1:1: error: cannot read /dev/zero as a script: it is not a regular file", device.getMessage());
    }

    @Test
    void aBlockRepeatedAMillionTimesIsRefusedBeforeExpanding() {
        ModelException e = assertThrows(ModelException.class, () -> loader.parse("t.nn", """
                block b()(x) {
                    return relu
                }
                model M {
                    input x: [4]
                    output y = b * 1000000
                }"""));
        assertEquals("t.nn:6:20: error: repeat count 1000000 is too large (a model has at most 20,000 layers)",
                e.getMessage());
    }

    @Test
    void blocksThatDoubleAtEveryLevelStopAtTheLayerLimit() {
        StringBuilder s = new StringBuilder("block b0()(x) {\n    return relu * 2\n}\n");
        for (int i = 1; i <= 40; i++) {
            s.append("block b").append(i).append("()(x) {\n    return b").append(i - 1).append(" * 2\n}\n");
        }
        s.append("model M {\n    input x: [4]\n    output y = b40\n}\n");
        ModelException e = assertThrows(ModelException.class, () -> loader.parse("t.nn", s.toString()));
        assertEquals("t.nn:2:12: error: model 'M' is too large: more than 20,000 layers after expanding blocks",
                e.diagnostics().get(0).headline());
        // One note per block call on the way down, innermost first, the model's own call last.
        assertEquals(41, e.diagnostics().get(0).notes().size());
        assertEquals(126, e.diagnostics().get(0).notes().get(40).span().line());
    }

    @Test
    void blocksThatMakeNoLayersStillStopAtTheCallLimit() {
        StringBuilder s = new StringBuilder("block b0()(x) {\n    return x\n}\n");
        for (int i = 1; i <= 6; i++) {
            s.append("block b").append(i).append("()(x) {\n    return b").append(i - 1).append(" * 1000\n}\n");
        }
        s.append("model M {\n    input x: [4]\n    output y = b6 -> relu\n}\n");
        ModelException e = assertThrows(ModelException.class, () -> loader.parse("t.nn", s.toString()));
        assertTrue(e.getMessage().endsWith("error: model 'M' is too large: more than 100,000 block calls and repeats after "
                + "expanding"), e.getMessage());
    }

    @Test
    void callsNestedDeeperThanTheLimitAreRefused() {
        StringBuilder s = new StringBuilder("block b0()(x) {\n    return relu\n}\n");
        for (int i = 1; i <= 100; i++) {
            s.append("block b").append(i).append("()(x) {\n    return b").append(i - 1).append("\n}\n");
        }
        s.append("model M {\n    input x: [4]\n    output y = b100\n}\n");
        ModelException e = assertThrows(ModelException.class, () -> loader.parse("t.nn", s.toString()));
        assertEquals("t.nn:113:12: error: blocks are nested too deeply (more than 64 calls inside each other)",
                e.diagnostics().get(0).headline());
    }

    @Test
    void thousandsOfBlocksAndALongChainLoadWithoutDeepRecursion() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 5000; i++) s.append("block b").append(i).append("()(x) {\n    return relu\n}\n");
        s.append("model M {\n    input x: [4]\n    output y = x").append(" -> relu".repeat(5000)).append("\n}\n");
        Script script = loader.parse("t.nn", s.toString());
        assertEquals(5000, script.mainModel().graph().nodes().size());
    }

    @Test
    void mangledBlockScriptsGiveDiagnosticsOrValidScripts() {
        String original = BlocksTest.RESIDUAL + """
                model Net {
                    input image: [4, 8, 8]
                    layer1 = residual(4) * 2
                    layer2 = residual(8, stride=2) + (image -> conv(8, kernel=1, stride=2))
                    output logits = flatten -> dense(3)
                }
                """;
        String alphabet = "(){}[],:;=->+-*/#\"\n 0123456789.eE_abcxyz\\@\u00e9\u0000\tifthenelseandornot<>!";
        Random random = new Random(11);
        int valid = 0;
        for (int i = 0; i < 400; i++) {
            StringBuilder s = new StringBuilder(original);
            int edits = 1 + random.nextInt(4);
            for (int k = 0; k < edits; k++) {
                int at = random.nextInt(s.length());
                switch (random.nextInt(3)) {
                    case 0 -> s.deleteCharAt(at);
                    case 1 -> s.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                    default -> s.insert(at, s.substring(at, Math.min(s.length(), at + random.nextInt(12))));
                }
            }
            try {
                loader.parse("m.nn", s.toString());
                valid++;
            } catch (ModelException e) {
                String rendered = loader.render(e);
                assertTrue(rendered.startsWith("m.nn:"), rendered);
                assertTrue(e.diagnostics().stream().allMatch(d -> d.span().isKnown()), rendered);
            } catch (RuntimeException e) {
                fail("input " + i + " escaped as " + e + ":\n" + s, e);
            }
        }
        assertTrue(valid > 0 && valid < 400, "valid=" + valid);
    }

    @Test
    void mangledScriptsAlsoFormatOrFailWithADiagnostic() {
        Random random = new Random(5);
        String alphabet = "(){}[],:;=->+*#\"\n abc1.";
        for (int i = 0; i < 500; i++) {
            StringBuilder s = new StringBuilder(ScriptLoaderTest.LENET + BlocksTest.RESIDUAL);
            for (int k = 0; k < 3; k++) {
                int at = random.nextInt(s.length());
                if (random.nextBoolean()) s.deleteCharAt(at);
                else s.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
            }
            try {
                String canonical = ScriptFormatter.format("m.nn", s.toString());
                assertEquals(canonical, ScriptFormatter.format("m.nn", canonical), "input " + i);
            } catch (ModelException e) {
                assertTrue(e.getMessage().startsWith("m.nn:"), e.getMessage());
                assertTrue(!e.getMessage().contains("cannot format"), "formatter refused input " + i + ":\n" + s);
            }
        }
    }

    @Test
    void antlrPrintsNothingToTheConsole() {
        PrintStream err = System.err;
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (PrintStream sink = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setErr(sink);
            System.setOut(sink);
            assertThrows(ModelException.class, () -> loader.parse("t.nn", "model M { input x: [2] output = ) }"));
            assertThrows(ModelException.class, () -> loader.parse("t.nn", "model M { input x: [2] $ }"));
        } finally {
            System.setErr(err);
            System.setOut(out);
        }
        assertEquals("", captured.toString(StandardCharsets.UTF_8));
    }
}
