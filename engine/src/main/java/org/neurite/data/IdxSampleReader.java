package org.neurite.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.neurite.io.FileFormatException;

/**
 * The images of an uncompressed {@code idx3-ubyte} file read one at a time by offset — image
 * {@code i} is the {@code rows * cols} bytes at {@code header + i * rows * cols} — never the whole
 * file. Pixels become floats through the same {@link Normalization} table as {@link IdxReader},
 * so a streamed sample equals the in-memory one bit for bit. Each chunk opens its own channel
 * (positional reads, one image's bytes of scratch), so threads share nothing and no file stays
 * open between chunks.
 */
final class IdxSampleReader implements SampleReader {
    private final Path file;
    private final IdxReader.ImageLayout layout;
    private final int rowBytes;
    private final float[] table;

    /** Checks the header and the file's length ({@link IdxReader#imageLayout}); reads no image. */
    IdxSampleReader(Path file, Normalization normalization) throws IOException {
        this.file = file;
        this.layout = IdxReader.imageLayout(file);
        this.rowBytes = layout.rows() * layout.cols();
        this.table = normalization.table();
    }

    /** The images' [rows, cols]. */
    int rows() { return layout.rows(); }

    int cols() { return layout.cols(); }

    @Override public int size() { return layout.count(); }

    @Override public int sampleSize() { return rowBytes; }

    @Override public void read(int[] indices, int count, float[] rows) throws IOException {
        ByteBuffer image = ByteBuffer.allocate(rowBytes);
        byte[] bytes = image.array();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            for (int k = 0; k < count; k++) {
                long at = layout.dataOffset() + (long) indices[k] * rowBytes;
                image.clear();
                while (image.hasRemaining()) {
                    if (channel.read(image, at + image.position()) < 0) {
                        throw new FileFormatException(file + ": ends inside image " + indices[k] + " of " + layout.count()
                                + "; the file was changed after training started");
                    }
                }
                int out = k * rowBytes;
                for (int j = 0; j < rowBytes; j++) rows[out + j] = table[bytes[j] & 0xFF];
            }
        }
    }
}
