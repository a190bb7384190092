package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands that write a file where the user points them leave a file that is already there alone
 * unless told {@code --overwrite}: {@code predict --output}, {@code export -o}, {@code import -o}
 * (the script and its weights), {@code graph -o}, {@code viz filters -o}, and the pictures
 * {@code viz features} and {@code viz apply} put in their {@code -o} folder. For each: a first run
 * writes the file; the user's own bytes put in its place survive a second run, which exits 2 with
 * one line saying what to do; {@code --overwrite} replaces them.
 */
class ExistingOutputTest {
    private static final Path FIXTURES = Path.of("src/test/resources/interop");
    private static final Path LENET = Path.of("..", "examples", "lenet5.nn");
    private static final Path IMAGE = Path.of("..", "examples", "images", "test_pattern.png");
    private static final byte[] MINE = "a file the user made\n".getBytes();

    @TempDir Path dir;

    @Test
    void predictOutput() throws Exception {
        Path out = dir.resolve("y.safetensors");
        refusedThenReplaced(out, "predict", FIXTURES.resolve("cnn.nn").toString(), "--weights", FIXTURES.resolve("cnn.safetensors").toString(),
                "--input", FIXTURES.resolve("cnn_input.safetensors").toString(), "--output", out.toString());
    }

    @Test
    void exportedOnnx() throws Exception {
        Path weights = dir.resolve("lenet5.safetensors");
        OnnxCommandsTest.writeRandomWeights(LENET, weights);
        Path onnx = dir.resolve("lenet.onnx");
        refusedThenReplaced(onnx, "export", LENET.toString(), "--weights", weights.toString(), "-o", onnx.toString());
    }

    @Test
    void importedScriptAndItsWeights() throws Exception {
        Path weights = dir.resolve("lenet5.safetensors");
        OnnxCommandsTest.writeRandomWeights(LENET, weights);
        Path onnx = dir.resolve("lenet.onnx");
        CliRunner.Result exported = CliRunner.run("export", LENET.toString(), "--weights", weights.toString(), "-o", onnx.toString());
        assertEquals(0, exported.exit(), exported.err());
        Path script = dir.resolve("back.nn");
        refusedThenReplaced(script, "import", onnx.toString(), "-o", script.toString());
        // The weights beside the script count as well: a user's back.safetensors alone stops the import.
        Files.delete(script);
        Path beside = dir.resolve("back.safetensors");
        Files.write(beside, MINE);
        CliRunner.Result refused = CliRunner.run("import", onnx.toString(), "-o", script.toString());
        assertEquals(2, refused.exit(), refused.err());
        assertTrue(refused.err().contains(beside + " already exists"), refused.err());
        assertTrue(Arrays.equals(MINE, Files.readAllBytes(beside)), "the weights file is left as it was");
        assertTrue(Files.notExists(script), "nothing written when refused");
    }

    @Test
    void graphOutput() throws Exception {
        Path dot = dir.resolve("g.dot");
        refusedThenReplaced(dot, "graph", LENET.toString(), "-o", dot.toString());
    }

    @Test
    void filterPicture() throws Exception {
        Path png = dir.resolve("filters.png");
        refusedThenReplaced(png, "viz", "filters", LENET.toString(), "-o", png.toString());
    }

    @Test
    void featurePicturesInAFolder() throws Exception {
        Path out = dir.resolve("features");
        refusedThenReplaced(out.resolve("00_image.png"), "viz", "features", LENET.toString(), "--input", IMAGE.toString(), "-o", out.toString());
    }

    @Test
    void appliedImagesInAFolder() throws Exception {
        Path out = dir.resolve("filtered");
        refusedThenReplaced(out.resolve("lowpass.png"), "viz", "apply", "../examples/filters.nn", "--input", IMAGE.toString(), "-o", out.toString());
    }

    /**
     * A folder where the output file goes is named as one, with or without --overwrite, before
     * any work: not "already exists; add --overwrite" (which then failed as an I/O error, exit 1),
     * and for import not after the weights beside the script were written.
     */
    @Test
    void aFolderWhereTheFileGoesIsRefusedUpFront() throws Exception {
        Path weights = dir.resolve("lenet5.safetensors");
        OnnxCommandsTest.writeRandomWeights(LENET, weights);
        Path onnxFolder = Files.createDirectories(dir.resolve("out.onnx"));
        for (boolean overwrite : new boolean[] {false, true}) {
            List<String> args = new ArrayList<>(List.of("export", LENET.toString(), "--weights", weights.toString(), "-o", onnxFolder.toString()));
            if (overwrite) args.add("--overwrite");
            CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(2, r.exit(), r.err());
            assertEquals("nn: " + onnxFolder + ": a folder, not a file; name a file for -o\n", r.err());
        }
        Path onnx = dir.resolve("lenet.onnx");
        assertEquals(0, CliRunner.run("export", LENET.toString(), "--weights", weights.toString(), "-o", onnx.toString()).exit());
        Path scriptFolder = Files.createDirectories(dir.resolve("back.nn"));
        CliRunner.Result imported = CliRunner.run("import", onnx.toString(), "-o", scriptFolder.toString(), "--overwrite");
        assertEquals(2, imported.exit(), imported.err());
        assertEquals("nn: " + scriptFolder + ": a folder, not a file; name a file for -o\n", imported.err());
        assertTrue(Files.notExists(dir.resolve("back.safetensors")), "no weights written beside a script that cannot be");
        Path pngFolder = Files.createDirectories(dir.resolve("filters.png"));
        CliRunner.Result viz = CliRunner.run("viz", "filters", LENET.toString(), "-o", pngFolder.toString(), "--overwrite");
        assertEquals(2, viz.exit(), viz.err());
        assertEquals("nn: " + pngFolder + ": a folder, not a file; name a file for -o\n", viz.err());
    }

    /** Runs args (which write file), puts the user's bytes there, runs them again (refused), then with --overwrite. */
    private static void refusedThenReplaced(Path file, String... args) throws Exception {
        CliRunner.Result first = CliRunner.run(args);
        assertEquals(0, first.exit(), first.err());
        assertTrue(Files.isRegularFile(file), file + " written");
        Files.write(file, MINE);
        CliRunner.Result refused = CliRunner.run(args);
        assertEquals(2, refused.exit(), "exit status: " + refused.err());
        assertTrue(refused.err().contains(file + " already exists; choose another "), refused.err());
        assertTrue(refused.err().contains("or add --overwrite to replace it"), refused.err());
        assertEquals(1, refused.err().strip().lines().count(), "one line: " + refused.err());
        assertTrue(Arrays.equals(MINE, Files.readAllBytes(file)), file + " left as the user made it");
        List<String> again = new ArrayList<>(List.of(args));
        again.add("--overwrite");
        CliRunner.Result replaced = CliRunner.run(again.toArray(String[]::new));
        assertEquals(0, replaced.exit(), replaced.err());
        assertNotEquals(Arrays.toString(MINE), Arrays.toString(Files.readAllBytes(file)), file + " replaced");
    }
}
