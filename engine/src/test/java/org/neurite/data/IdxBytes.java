package org.neurite.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Builds IDX files for tests, byte by byte, so each test states exactly what is on disk: the
 * magic number (two zero bytes, type, rank), the big-endian dimensions, then the payload.
 */
final class IdxBytes {
    private IdxBytes() {}

    /** An unsigned-byte IDX file: header for {@code dims}, then {@code payload} as given (it may disagree). */
    static byte[] ubyte(int[] dims, byte[] payload) {
        return raw(0, 0, 0x08, dims, payload);
    }

    /** Any header at all, for the malformed cases. */
    static byte[] raw(int magic0, int magic1, int type, int[] dims, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload.length); // big-endian, as IDX is
        b.put((byte) magic0).put((byte) magic1).put((byte) type).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        b.put(payload);
        return b.array();
    }

    static byte[] gzip(byte[] bytes) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
                gz.write(bytes);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    /**
     * Writes the four standard files of a {@code count}-sample dataset of 2 x 2 images into
     * {@code folder} (gzip-compressed): sample {@code i} has every pixel equal to {@code i} and
     * label {@code i % classes}, so a test can tell which files were read from the values alone.
     */
    static void writeDataset(Path folder, int trainCount, int testCount, int classes) throws IOException {
        writeSplit(folder, "train", trainCount, classes);
        writeSplit(folder, "t10k", testCount, classes);
    }

    private static void writeSplit(Path folder, String split, int count, int classes) throws IOException {
        byte[] pixels = new byte[count * 4];
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            for (int p = 0; p < 4; p++) pixels[i * 4 + p] = (byte) i;
            labels[i] = (byte) (i % classes);
        }
        write(folder.resolve(split + "-images-idx3-ubyte.gz"), gzip(ubyte(new int[] {count, 2, 2}, pixels)));
        write(folder.resolve(split + "-labels-idx1-ubyte.gz"), gzip(ubyte(new int[] {count}, labels)));
    }
}
