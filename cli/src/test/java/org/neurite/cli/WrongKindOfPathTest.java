package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A folder where a file goes, or a file where a folder goes, is called that: not "no such file" or "does not exist". */
class WrongKindOfPathTest {
    @TempDir Path dir;

    @Test void aFolderGivenAsPredictInputIsCalledAFolder() throws Exception {
        Path pictures = Files.createDirectories(dir.resolve("pictures"));
        CliRunner.Result r = CliRunner.run("predict", "../examples/lenet5.nn", "--weights", "unused.safetensors",
                "--input", pictures.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertEquals("nn: --input " + pictures + " is a folder; give its files (--input " + pictures.resolve("*.png") + ")\n", r.err());
    }

    @Test void aFileGivenAsTheDataFolderIsCalledAFile() throws Exception {
        Path file = Files.writeString(dir.resolve("afile"), "hi\n");
        CliRunner.Result r = CliRunner.run("train", "../examples/lenet5.nn", "--data", file.toString(), "--out", dir.resolve("run").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertTrue(r.err().contains("--data " + file + " holds no Fashion-MNIST files: is a file, not a folder"), r.err());
    }

    @Test void aMissingImageFolderIsSaidNotToExist() throws Exception {
        Path script = Files.writeString(dir.resolve("photos.nn"), """
                model M {
                    input x: [1, 28, 28]
                    output y = flatten -> dense(10)
                }
                train M {
                    data = images(folder="nothere", size=[1, 28, 28])
                }
                """);
        CliRunner.Result r = CliRunner.run("train", script.toString(), "--out", dir.resolve("run").toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
        assertEquals("nn: image folder " + dir.resolve("nothere") + " does not exist\n", r.err());
    }

    /** A run folder given where its script goes: summary, graph and viz name the script inside, which is what the user meant. */
    @Test void aRunFolderGivenAsTheScriptPointsAtItsModelNn() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run"));
        Files.copy(Path.of("../examples/lenet5.nn"), run.resolve("model.nn"));
        for (String[] args : new String[][] {{"summary", run.toString()}, {"graph", run.toString()}}) {
            CliRunner.Result r = CliRunner.run(args);
            assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.err());
            assertTrue(r.err().startsWith(run + ":1:1: error: cannot read " + run + " as a script: it is a folder; its script is "
                    + run.resolve("model.nn") + "\n"), r.err());
        }
        CliRunner.Result plain = CliRunner.run("summary", dir.toString());
        assertTrue(plain.err().startsWith(dir + ":1:1: error: cannot read " + dir + " as a script: it is a folder\n"), plain.err());
    }
}
