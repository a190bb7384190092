package org.neurite.hostile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.AtomicFiles;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/**
 * A write that fails part-way, as when the disk fills up: {@link AtomicFiles} must leave the
 * previous file exactly as it was, leave no temporary file behind, and throw an exception that
 * names the file and the reason (what {@code nn} prints). The failure is injected by a writer
 * that stops with the error the operating system gives for a full disk after a megabyte; a real
 * full file system needs a mount of its own, which a test cannot make without root.
 */
class InterruptedWriteTest {
    @TempDir Path dir;

    @Test
    void aDiskFullInTheMiddleKeepsThePreviousCheckpointAndNamesTheFile() throws IOException {
        Path file = dir.resolve("checkpoint.safetensors");
        List<NamedTensor> previous = List.of(new NamedTensor("w", Shape.of(3), new float[] {1, 2, 3}));
        SafeTensors.write(file, previous, Map.of("neurite.epoch", "4"));
        byte[] before = Files.readAllBytes(file);

        IOException diskFull = new IOException("No space left on device");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(file, out -> {
            out.write(new byte[1 << 20]);
            throw diskFull;
        }));

        assertEquals("could not write " + file + ": No space left on device; its previous content is unchanged", e.getMessage());
        assertSame(diskFull, e.getCause());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals("4", SafeTensors.read(file).metadata().get("neurite.epoch"));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList(), "a temporary file was left behind");
        }
    }

    @Test
    void aFolderThatCannotBeWrittenIsNamedWithTheReason() throws IOException {
        Path notAFolder = Files.writeString(dir.resolve("runs"), "a file where a folder should be");
        Path file = notAFolder.resolve("model.safetensors");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(file, "weights"));
        assertEquals("could not write " + file + ": " + notAFolder + " is in the way (it exists and is not a folder)", e.getMessage());
        assertEquals("a file where a folder should be", Files.readString(notAFolder));
    }

    @Test
    void aFolderWhereTheFileGoesIsCalledThatAndLeftAlone() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("report.html"));
        Files.writeString(folder.resolve("mine.txt"), "the user's");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(folder, "<html>"));
        // not "Is a directory (/…/.report.html.123.tmp)", a file the user never named
        assertEquals("could not write " + folder + ": a folder, not a file", e.getMessage());
        assertEquals("the user's", Files.readString(folder.resolve("mine.txt")));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(folder), files.toList(), "a temporary file was left behind");
        }
    }

    /** A folder in which no file can be made is named, not the temporary file the write tried to make there. */
    @Test
    void aFolderThatMakesNoFilesIsNamedNotTheTemporaryFile() {
        Path proc = Path.of("/proc");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(proc.resolve("self")), "Linux's /proc");
        Path file = proc.resolve("graph.dot");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(file, "digraph {}"));
        assertEquals("could not write " + file + ": no such file or folder (/proc)", e.getMessage());
    }
}
