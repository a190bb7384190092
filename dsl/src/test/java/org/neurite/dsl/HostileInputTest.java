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
