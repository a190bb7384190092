package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code nn fmt --write}: what it rewrites, and that a symbolic link is written through. */
class FmtCommandTest {
    private static final String UNTIDY = "model   M {\n input x: [4]\n output y = dense(2)\n}\n";
    private static final String CANONICAL = "model M {\n    input x: [4]\n    output y = dense(2)\n}\n";

    @TempDir Path dir;

    @Test void writeRewritesAFileThatIsNotCanonical() throws Exception {
        Path script = Files.writeString(dir.resolve("m.nn"), UNTIDY);
        CliRunner.Result r = CliRunner.run("fmt", "--write", script.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("nn fmt: reformatted " + script + "\n", r.err());
        assertEquals(CANONICAL, Files.readString(script));
    }

    @Test void writeGoesThroughASymbolicLinkAndKeepsIt() throws Exception {
        Path real = Files.writeString(Files.createDirectories(dir.resolve("src")).resolve("real.nn"), UNTIDY);
        Path link = Files.createSymbolicLink(dir.resolve("link.nn"), Path.of("src/real.nn"));   // relative, as ln -s makes it
        Path chain = Files.createSymbolicLink(dir.resolve("chain.nn"), Path.of("link.nn"));
        CliRunner.Result r = CliRunner.run("fmt", "--write", chain.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals(CANONICAL, Files.readString(real), "the script the links point to is formatted");
        assertTrue(Files.isSymbolicLink(link) && Files.isSymbolicLink(chain), "the links stay links");
        assertEquals(Path.of("src/real.nn"), Files.readSymbolicLink(link));
        try (var files = Files.list(real.getParent())) {
            assertEquals(1, files.count(), "no temporary file is left beside the script");
        }
    }
}
