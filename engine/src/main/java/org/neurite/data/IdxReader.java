package org.neurite.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.tensor.Shape;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic number (two zero
 * bytes, the data type, the rank), one big-endian 32-bit size per dimension, then the values.
 * Images are {@code idx3-ubyte} ({@code [count, rows, cols]} unsigned bytes), labels
 * {@code idx1-ubyte} ({@code [count]}). A file may be raw or gzip-compressed; which one is
 * decided by the gzip magic bytes, not by the file name, because both spellings circulate.
 *
 * <p>Everything is checked before it is trusted: the magic number, the data type (only 0x08,
 * unsigned byte), the rank, that the dimensions hold at most {@link #MAX_VALUES} values (absurd
 * headers are refused before anything is allocated) and that the data is exactly as long as the
 * header promises. Every failure is a {@link FileFormatException} whose message names the file.
 * When the length is not known before reading (a gzip file, a stream), the values are gathered
 * in an array that grows with the data actually read, so memory follows the data, not the header:
 * a 100-byte file that promises a billion pixels is refused as truncated having cost nothing.
 * Image pixels become floats in {@code [0, 1]} (byte / 255), then {@link Normalization} applies.
 */
public final class IdxReader {
    /** Most values one file may hold: 2^30, i.e. 4 GiB once converted to floats. */
    public static final long MAX_VALUES = 1L << 30;

    private static final int UNSIGNED_BYTE = 0x08;
    private static final int CHUNK = 1 << 16;

    private IdxReader() {}

    /** Images of an {@code idx3-ubyte} file as a tensor shaped {@code [count, rows, cols]}. */
    public static NamedTensor readImages(Path file, Normalization normalization) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readImages(in, file.toString(), normalization, Files.size(file));
        }
    }

    /**
     * Images from a stream (a class-path resource, for instance); {@code name} is used in messages
     * and as the tensor's name. The stream is not closed.
     */
    public static NamedTensor readImages(InputStream in, String name, Normalization normalization) throws IOException {
        return readImages(in, name, normalization, -1);
    }

    /** Labels of an {@code idx1-ubyte} file, one class index (0..255) per sample. */
    public static int[] readLabels(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return readLabels(in, file.toString(), Files.size(file));
        }
    }

    /** Labels from a stream; {@code name} is used in messages. The stream is not closed. */
    public static int[] readLabels(InputStream in, String name) throws IOException {
        return readLabels(in, name, -1);
    }

    private static NamedTensor readImages(InputStream raw, String name, Normalization normalization, long rawSize)
            throws IOException {
        Source source = open(raw, name, rawSize);
        Header header = source.header(3, "images: count x rows x cols");
        float[] table = normalization.table();
        float[] pixels;
        if (source.lengthChecked()) {
            float[] out = new float[(int) header.values];
            source.readPayload(header, (chunk, n, offset) -> {
                for (int i = 0; i < n; i++) out[offset + i] = table[chunk[i] & 0xFF];
            });
            pixels = out;
        } else {
            byte[] bytes = source.payloadBytes(header);
            pixels = new float[bytes.length];
            for (int i = 0; i < bytes.length; i++) pixels[i] = table[bytes[i] & 0xFF];
        }
        return new NamedTensor(name, Shape.of((int) header.dims[0], (int) header.dims[1], (int) header.dims[2]), pixels);
    }

    private static int[] readLabels(InputStream raw, String name, long rawSize) throws IOException {
        Source source = open(raw, name, rawSize);
        Header header = source.header(1, "labels: count");
        if (!source.lengthChecked()) {
            byte[] bytes = source.payloadBytes(header);
            int[] labels = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) labels[i] = bytes[i] & 0xFF;
            return labels;
        }
        int[] labels = new int[(int) header.values];
        source.readPayload(header, (chunk, n, offset) -> {
            for (int i = 0; i < n; i++) labels[offset + i] = chunk[i] & 0xFF;
        });
        return labels;
    }

    /** Where the images of an uncompressed {@code idx3-ubyte} file lie: {@code count} rows of {@code rows * cols} bytes from {@code dataOffset}. */
    record ImageLayout(int count, int rows, int cols, long dataOffset) {}

    /**
     * The layout of an {@code idx3-ubyte} file for reading its images one at a time by offset
     * ({@link IdxSampleReader}): the header is checked as {@link #readImages} checks it, and the
     * file's length against it, but no image is read, so the file may hold more than
     * {@link #MAX_VALUES}. A gzip-compressed file is refused: its images cannot be found by offset.
     */
    static ImageLayout imageLayout(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file)) {
            Source source = open(raw, file.toString(), Files.size(file));
            if (source.gzip()) {
                throw new FileFormatException(file + ": gzip-compressed; a streamed IDX file is read by offset, so it must be "
                        + "uncompressed (gunzip -c " + file + " > " + stripGz(file.getFileName().toString()) + ")");
            }
            Header header = source.header(3, "images: count x rows x cols", Long.MAX_VALUE / 2);
            if (header.dims[0] > Integer.MAX_VALUE || header.dims[1] * header.dims[2] > Integer.MAX_VALUE / 4) {
                throw new FileFormatException(file + ": dimensions " + header.dimsText() + " hold more images, or larger ones, "
                        + "than a dataset can index");
            }
            return new ImageLayout((int) header.dims[0], (int) header.dims[1], (int) header.dims[2], header.bytes);
        }
    }

    private static String stripGz(String name) {
        return name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    }

    /** Wraps the stream in gzip decompression when it starts with the gzip magic 1f 8b. */
    private static Source open(InputStream raw, String name, long rawSize) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, CHUNK);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            try {
                return new Source(new GZIPInputStream(in, CHUNK), name, true, -1);
            } catch (ZipException | EOFException e) {
                throw new FileFormatException(name + ": corrupt gzip header (" + e.getMessage() + ")");
            }
        }
        return new Source(in, name, false, rawSize);
    }

    /** The dimensions from a file's header and how many bytes the header took. */
    private record Header(long[] dims, long values, int bytes) {
        String dimsText() { return IdxReader.dimsText(dims); }
    }

    /** {@code 3 x 28 x 28}. */
    private static String dimsText(long[] dims) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < dims.length; i++) sb.append(i == 0 ? "" : " x ").append(dims[i]);
        return sb.toString();
    }

    @FunctionalInterface
    private interface ChunkSink {
        /** {@code n} bytes of {@code chunk} are values {@code offset .. offset+n} of the file. */
        void accept(byte[] chunk, int n, int offset);
    }

    /**
     * One file being read. {@code rawSize} is the file's length when it is known and not
     * compressed, so length mistakes are caught before the payload is allocated.
     */
    private record Source(InputStream in, String name, boolean gzip, long rawSize) {
        Header header(int expectedRank, String layout) throws IOException {
            return header(expectedRank, layout, MAX_VALUES);
        }

        /** The header, refused when its dimensions hold more than {@code maxValues} values. */
        Header header(int expectedRank, String layout, long maxValues) throws IOException {
            byte[] magic = new byte[4];
            int got = readUpTo(magic, 4);
            if (got < 4) {
                throw new FileFormatException(name + ": truncated: an IDX file starts with a 4-byte magic number, found "
                        + got + (got == 1 ? " byte" : " bytes"));
            }
            if (magic[0] != 0 || magic[1] != 0) {
                throw new FileFormatException(String.format(Locale.ROOT,
                        "%s: not an IDX file (magic number 0x%02X%02X%02X%02X; IDX files start with two zero bytes)",
                        name, magic[0], magic[1], magic[2], magic[3]));
            }
            if ((magic[2] & 0xFF) != UNSIGNED_BYTE) {
                throw new FileFormatException(String.format(Locale.ROOT,
                        "%s: IDX data type 0x%02X is not supported; only 0x08 (unsigned byte) is", name, magic[2]));
            }
            int rank = magic[3] & 0xFF;
            if (rank != expectedRank) {
                throw new FileFormatException(name + ": expected an IDX file of rank " + expectedRank + " (" + layout
                        + "), found rank " + rank);
            }
            int bytes = 4 + 4 * rank;
            byte[] sizes = new byte[4 * rank];
            got = readUpTo(sizes, sizes.length);
            if (got < sizes.length) {
                throw new FileFormatException(name + ": truncated: the header of a rank-" + rank + " IDX file is " + bytes
                        + " bytes, found " + (4 + got));
            }
            long[] dims = new long[rank];
            // The product is judged in floating point first: unsigned 32-bit sizes can overflow a long.
            double approx = 1;
            for (int i = 0; i < rank; i++) {
                dims[i] = ((sizes[4 * i] & 0xFFL) << 24) | ((sizes[4 * i + 1] & 0xFFL) << 16)
                        | ((sizes[4 * i + 2] & 0xFFL) << 8) | (sizes[4 * i + 3] & 0xFFL);
                approx *= dims[i];
            }
            if (approx > maxValues) {
                throw new FileFormatException(String.format(Locale.ROOT,
                        "%s: dimensions %s hold %.0f values; at most %d are supported", name, dimsText(dims), approx, maxValues));
            }
            long values = 1;
            for (long d : dims) values *= d;
            Header header = new Header(dims, values, bytes);
            if (rawSize >= 0 && rawSize != bytes + values) {
                if (rawSize < bytes + values) throw truncated(header, rawSize - bytes);
                throw new FileFormatException(name + ": " + (rawSize - bytes - values) + " bytes after the " + values
                        + " data bytes the header promises (" + header.dimsText() + ")");
            }
            return header;
        }

        /** Whether the file's length was checked against the header before the payload (so it may be allocated at once). */
        boolean lengthChecked() {
            return rawSize >= 0;
        }

        /**
         * The payload of a file whose length was not known in advance: the array starts at 1 MiB
         * at most and doubles as data arrives, never past what the header promises.
         */
        byte[] payloadBytes(Header header) throws IOException {
            byte[][] data = {new byte[(int) Math.min(header.values, 1 << 20)]};
            readPayload(header, (chunk, n, offset) -> {
                if (offset + n > data[0].length) {
                    data[0] = java.util.Arrays.copyOf(data[0], (int) Math.min(header.values, Math.max(2L * data[0].length, offset + n)));
                }
                System.arraycopy(chunk, 0, data[0], offset, n);
            });
            return data[0];
        }

        /** Streams exactly {@code header.values} bytes to {@code sink}, then checks nothing follows. */
        void readPayload(Header header, ChunkSink sink) throws IOException {
            byte[] chunk = new byte[(int) Math.min(CHUNK, Math.max(1, header.values))];
            long done = 0;
            while (done < header.values) {
                int want = (int) Math.min(chunk.length, header.values - done);
                int got = readUpTo(chunk, want);
                if (got > 0) sink.accept(chunk, got, (int) done);
                done += got;
                if (got < want) throw truncated(header, done);
            }
            int extra = safeRead();
            if (extra >= 0) {
                throw new FileFormatException(name + ": more data than the " + header.values
                        + " bytes the header promises (" + header.dimsText() + ")");
            }
        }

        private FileFormatException truncated(Header header, long found) {
            return new FileFormatException(name + ": truncated: the header promises " + header.dimsText() + " = "
                    + header.values + " data bytes, found " + found + (gzip ? " after decompression" : ""));
        }

        /** Reads until {@code n} bytes or the end; a gzip stream that ends mid-way counts as the end. */
        private int readUpTo(byte[] buf, int n) throws IOException {
            int total = 0;
            while (total < n) {
                int r;
                try {
                    r = in.read(buf, total, n - total);
                } catch (EOFException e) {
                    return total;
                } catch (ZipException e) {
                    throw new FileFormatException(name + ": corrupt gzip data (" + e.getMessage() + ")");
                }
                if (r < 0) break;
                total += r;
            }
            return total;
        }

        private int safeRead() throws IOException {
            byte[] one = new byte[1];
            return readUpTo(one, 1) == 1 ? one[0] & 0xFF : -1;
        }
    }
}
