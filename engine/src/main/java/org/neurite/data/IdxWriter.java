package org.neurite.data;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.neurite.io.AtomicFiles;

/**
 * Writes uncompressed unsigned-byte IDX files, the format {@link IdxReader} reads and
 * {@code idx(folder=...)} streams: two zero bytes, type 0x08, the rank, one big-endian 32-bit size
 * per dimension, then the values. The values are asked for a block at a time, so a file larger
 * than memory can be made (a dataset for the streaming loader's tests and benchmark, or one
 * converted from another format); the file appears whole or not at all ({@link AtomicFiles}).
 */
public final class IdxWriter {
    private static final int BLOCK = 1 << 16;

    private IdxWriter() {}

    /** Supplies values {@code [offset, offset + n)} of the file, in row-major order, into {@code block[0 .. n)}. */
    @FunctionalInterface
    public interface Values {
        void fill(long offset, byte[] block, int n);
    }

    /**
     * Writes {@code file} holding a {@code dims}-shaped array ({@code [count, rows, cols]} for
     * images, {@code [count]} for labels).
     */
    public static void write(Path file, int[] dims, Values values) throws IOException {
        long total = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("IDX dimensions are at least 0, got " + d);
            total *= d;
        }
        long count = total;
        AtomicFiles.write(file, raw -> {
            OutputStream out = new BufferedOutputStream(raw, BLOCK);
            ByteBuffer header = ByteBuffer.allocate(4 + 4 * dims.length);   // big-endian, as IDX is
            header.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
            for (int d : dims) header.putInt(d);
            out.write(header.array());
            byte[] block = new byte[BLOCK];
            for (long offset = 0; offset < count; offset += BLOCK) {
                int n = (int) Math.min(BLOCK, count - offset);
                values.fill(offset, block, n);
                out.write(block, 0, n);
            }
            out.flush();
        });
    }
}
