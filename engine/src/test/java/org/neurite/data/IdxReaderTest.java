package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.neurite.data.IdxBytes.bytes;
import static org.neurite.data.IdxBytes.gzip;
import static org.neurite.data.IdxBytes.ubyte;
import static org.neurite.data.IdxBytes.write;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.tensor.Shape;

class IdxReaderTest {
    @TempDir Path dir;

    /** Three 2 x 3 images; pixel bytes chosen so that byte / 255 is exact in float. */
    private static final byte[] PIXELS = bytes(
            0, 51, 102, 153, 204, 255,
            255, 0, 0, 0, 0, 0,
            1, 2, 3, 4, 5, 6);

    @Test void gzipImagesAndLabelsRoundTripWithPixelsScaledToUnitRange() throws IOException {
        Path images = write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(ubyte(new int[] {3, 2, 3}, PIXELS)));
        Path labels = write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(ubyte(new int[] {3}, bytes(9, 0, 200))));

        NamedTensor t = IdxReader.readImages(images, Normalization.NONE);
        assertEquals(Shape.of(3, 2, 3), t.shape());
        assertArrayEquals(new float[] {0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f}, java.util.Arrays.copyOf(t.data(), 6), 0f);
        assertEquals(1f, t.data()[6], 0f);
        assertEquals(6 / 255f, t.data()[17], 0f);
        // Labels are unsigned: byte 200 is class 200, not -56.
        assertArrayEquals(new int[] {9, 0, 200}, IdxReader.readLabels(labels));
    }

    @Test void compressionIsDetectedFromTheContentNotTheName() throws IOException {
        // A raw file with a .gz name and a compressed one without: both read the same.
        Path rawNamedGz = write(dir.resolve("a.gz"), ubyte(new int[] {3, 2, 3}, PIXELS));
        Path gzNamedRaw = write(dir.resolve("b-idx3-ubyte"), gzip(ubyte(new int[] {3, 2, 3}, PIXELS)));
        assertArrayEquals(IdxReader.readImages(rawNamedGz, Normalization.NONE).data(),
                IdxReader.readImages(gzNamedRaw, Normalization.NONE).data(), 0f);
    }

    @Test void meanStdNormalisationAppliesAfterScaling() throws IOException {
        Path images = write(dir.resolve("i"), ubyte(new int[] {1, 1, 3}, bytes(0, 255, 51)));
        float[] v = IdxReader.readImages(images, Normalization.meanStd(0.5, 0.25)).data();
        assertArrayEquals(new float[] {-2f, 2f, -1.2f}, v, 1e-6f);
    }

    @Test void streamsAreReadLikeFiles() throws IOException {
        byte[] gz = gzip(ubyte(new int[] {3}, bytes(4, 5, 6)));
        assertArrayEquals(new int[] {4, 5, 6}, IdxReader.readLabels(new ByteArrayInputStream(gz), "labels"));
    }

    @Test void truncatedRawFileNamesExpectedAndActualSizes() throws IOException {
        Path f = write(dir.resolve("short-images"), ubyte(new int[] {3, 2, 3}, new byte[10]));
        assertEquals(f + ": truncated: the header promises 3 x 2 x 3 = 18 data bytes, found 10", imagesError(f));
    }

    @Test void truncatedGzipFileCountsDecompressedBytes() throws IOException {
        Path f = write(dir.resolve("short-images.gz"), gzip(ubyte(new int[] {3, 2, 3}, new byte[10])));
        assertEquals(f + ": truncated: the header promises 3 x 2 x 3 = 18 data bytes, found 10 after decompression",
                imagesError(f));
    }

    @Test void gzipStreamCutMidwayIsTruncationToo() throws IOException {
        byte[] whole = gzip(ubyte(new int[] {3, 2, 3}, PIXELS));
        Path f = write(dir.resolve("cut.gz"), java.util.Arrays.copyOf(whole, whole.length - 12));
        String message = imagesError(f);
        assertTrue(message.startsWith(f + ": truncated: the header promises 3 x 2 x 3 = 18 data bytes, found "), message);
    }

    @Test void headerCutShortIsTruncation() throws IOException {
        Path f = write(dir.resolve("header"), bytes(0, 0, 8, 3, 0, 0));
        assertEquals(f + ": truncated: the header of a rank-3 IDX file is 16 bytes, found 6", imagesError(f));
        Path empty = write(dir.resolve("empty"), new byte[0]);
        assertEquals(empty + ": truncated: an IDX file starts with a 4-byte magic number, found 0 bytes", imagesError(empty));
    }

    @Test void wrongMagicIsRefused() throws IOException {
        Path zip = write(dir.resolve("images.zip"), bytes(0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0));
        assertEquals(zip + ": not an IDX file (magic number 0x504B0304; IDX files start with two zero bytes)", imagesError(zip));
    }

    @Test void onlyUnsignedBytesAreSupported() throws IOException {
        Path floats = write(dir.resolve("floats"), IdxBytes.raw(0, 0, 0x0D, new int[] {1, 1, 1}, new byte[4]));
        assertEquals(floats + ": IDX data type 0x0D is not supported; only 0x08 (unsigned byte) is", imagesError(floats));
    }

    @Test void rankMustMatchWhatIsRead() throws IOException {
        Path labels = write(dir.resolve("labels"), ubyte(new int[] {3}, bytes(1, 2, 3)));
        assertEquals(labels + ": expected an IDX file of rank 3 (images: count x rows x cols), found rank 1", imagesError(labels));
    }

    @Test void absurdDimensionsAreRefusedBeforeAllocating() throws IOException {
        // 280 billion values promised by a 16-byte file: refused from the header alone.
        Path huge = write(dir.resolve("huge"), ubyte(new int[] {100_000, 100_000, 28}, new byte[0]));
        assertEquals(huge + ": dimensions 100000 x 100000 x 28 hold 280000000000 values; at most 1073741824 are supported",
                imagesError(huge));
        // Sizes are unsigned 32-bit: 0xFFFFFFFF is 4294967295, not -1.
        Path unsigned = write(dir.resolve("unsigned.gz"), gzip(ubyte(new int[] {-1}, new byte[0])));
        FileFormatException e = assertThrows(FileFormatException.class, () -> IdxReader.readLabels(unsigned));
        assertEquals(unsigned + ": dimensions 4294967295 hold 4294967295 values; at most 1073741824 are supported", e.getMessage());
    }

    @Test void trailingBytesAreRefused() throws IOException {
        byte[] longer = java.util.Arrays.copyOf(PIXELS, 22);
        Path raw = write(dir.resolve("long"), ubyte(new int[] {3, 2, 3}, longer));
        assertEquals(raw + ": 4 bytes after the 18 data bytes the header promises (3 x 2 x 3)", imagesError(raw));
        Path gz = write(dir.resolve("long.gz"), gzip(ubyte(new int[] {3, 2, 3}, longer)));
        assertEquals(gz + ": more data than the 18 bytes the header promises (3 x 2 x 3)", imagesError(gz));
    }

    @Test void corruptGzipDataIsAFormatError() throws IOException {
        byte[] gz = gzip(ubyte(new int[] {3, 2, 3}, PIXELS));
        for (int i = 12; i < gz.length - 8; i++) gz[i] ^= 0x5A; // keep the gzip header, scramble the deflate data
        Path f = write(dir.resolve("corrupt.gz"), gz);
        String message = imagesError(f);
        assertTrue(message.startsWith(f + ": "), message);
    }

    private static String imagesError(Path f) {
        return assertThrows(FileFormatException.class, () -> IdxReader.readImages(f, Normalization.NONE)).getMessage();
    }
}
