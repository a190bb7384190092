package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.FileFormatException;
import org.neurite.layer.LayerArgs;
import org.neurite.tensor.Shape;
import org.neurite.train.DataSources;
import org.neurite.train.MemoryBound;

/**
 * A streamed dataset gives exactly the batches of the same files held in memory — for shuffled
 * epochs, an order array rewritten mid-epoch, skipped and repeated positions, both splits through
 * one loader, {@code head} and {@code select} — while the loader's buffers never exceed its bound.
 * The reference is the in-memory reader of the same files ({@link DatasetLocator}, {@link ImageFolder#load}).
 */
class StreamingLoaderTest {
    private static final int ROWS = 5;
    private static final int COLS = 4;

    @TempDir Path dir;

    /** The four standard files, uncompressed: random pixels (seeded), label {@code i % 7}. */
    private static Path idxFolder(Path folder, int train, int test) throws IOException {
        writeSplit(folder, "train", train, 1);
        writeSplit(folder, "t10k", test, 2);
        return folder;
    }

    private static void writeSplit(Path folder, String split, int count, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        IdxWriter.write(folder.resolve(split + "-images-idx3-ubyte"), new int[] {count, ROWS, COLS}, (offset, block, n) -> {
            for (int i = 0; i < n; i++) block[i] = (byte) random.nextInt(256);
        });
        IdxWriter.write(folder.resolve(split + "-labels-idx1-ubyte"), new int[] {count}, (offset, block, n) -> {
            for (int i = 0; i < n; i++) block[i] = (byte) ((offset + i) % 7);
        });
    }

    private static DatasetLocator.Located inMemory(Path folder) throws IOException {
        return DatasetLocator.standard(folder).locate(folder.toString(), Normalization.NONE, null);
    }

    /** Draws {@code batch}-sized batches over {@code order} from both datasets and asserts they are equal. */
    private static void assertSameBatches(Dataset expected, Dataset streamed, int[] order, int from, int batch) {
        int size = expected.sampleSize();
        float[] x = new float[batch * size], y = new float[batch];
        float[] sx = new float[batch * size], sy = new float[batch];
        for (int at = from; at < order.length; at += batch) {
            int count = Math.min(batch, order.length - at);
            expected.copyBatch(order, at, count, x, y);
            streamed.copyBatch(order, at, count, sx, sy);
            assertArrayEquals(x, sx, "samples of the batch at position " + at);
            assertArrayEquals(y, sy, "labels of the batch at position " + at);
        }
    }

    @Test void shuffledEpochsGiveTheInMemoryBatchesWithinTheBound() throws IOException {
        Path folder = idxFolder(dir.resolve("idx"), 500, 120);
        DatasetLocator.Located memory = inMemory(folder);
        // 100 samples' buffers (each 20 floats and an index: 84 bytes) at most, against 500 + 120 samples.
        StreamingLoader loader = new StreamingLoader(new MemoryBound(8400), 2);
        DataSourceLoader.Splits streamed = IdxFolderStream.open(folder, loader);
        assertTrue(streamed.train().isStreamed());
        assertEquals(memory.train().size(), streamed.train().size());
        assertEquals(Shape.of(1, ROWS, COLS), streamed.train().sampleShape());
        assertEquals(7, streamed.train().classes());

        EpochOrder epochs = new EpochOrder(42, 500);
        int[] order = new int[500];
        for (int epoch = 1; epoch <= 3; epoch++) {
            epochs.fill(epoch, order);              // one array rewritten every epoch, as the trainer does
            assertSameBatches(memory.train(), streamed.train(), order, 0, 32);
            int[] sequential = new int[120];
            for (int i = 0; i < 120; i++) sequential[i] = i;
            assertSameBatches(memory.test(), streamed.test(), sequential, 0, 50);   // evaluation between epochs, same loader
        }
        assertTrue(loader.peakHeldBytes() > 0 && loader.peakHeldBytes() <= 8400, "peak " + loader.peakHeldBytes());
        assertEquals(loader.heldBytes(), loader.peakHeldBytes(), "buffers are recycled, not reallocated");
    }

    @Test void anOrderRewrittenMidEpochSkippedOrRepeatedPositionsAreNeverServedStale() throws IOException {
        Path folder = idxFolder(dir.resolve("idx"), 300, 10);
        Dataset memory = inMemory(folder).train();
        Dataset streamed = IdxFolderStream.open(folder, new StreamingLoader(new MemoryBound(4000), 3)).train();
        EpochOrder epochs = new EpochOrder(7, 300);
        int[] order = epochs.permutation(0);
        float[] x = new float[16 * 20], y = new float[16], sx = new float[16 * 20], sy = new float[16];

        streamed.copyBatch(order, 0, 16, sx, sy);                     // the read-ahead now holds positions after 16
        epochs.fill(1, order);                                         // a new epoch written over the same array
        for (int from : new int[] {16, 0, 200, 100, 100, 284}) {       // continue, go back, skip, repeat, the tail
            memory.copyBatch(order, from, 16, x, y);
            streamed.copyBatch(order, from, 16, sx, sy);
            assertArrayEquals(x, sx, "batch at " + from);
            assertArrayEquals(y, sy, "labels at " + from);
        }
        assertSameBatches(memory, streamed, order, 3, 7);             // a resumed epoch starts off a chunk's boundary
    }

    @Test void headAndSelectStreamTheChosenSamples() throws IOException {
        Path folder = idxFolder(dir.resolve("idx"), 200, 10);
        Dataset memory = inMemory(folder).train();
        Dataset streamed = IdxFolderStream.open(folder, new StreamingLoader(new MemoryBound(2000), 1)).train();
        int[] chosen = {199, 3, 3, 150, 0, 77};
        Dataset memorySelected = memory.select(chosen, "chosen"), streamedSelected = streamed.select(chosen, "chosen");
        assertTrue(streamedSelected.isStreamed());
        assertSameBatches(memorySelected, streamedSelected, new int[] {5, 4, 3, 2, 1, 0}, 0, 4);
        Dataset head = streamed.head(50);
        assertEquals(50, head.size());
        assertTrue(head.isSubset());
        assertSameBatches(memory.head(50), head, new EpochOrder(1, 50).permutation(0), 0, 8);
    }

    @Test void streamedPicturesAreTheInMemoryPictures() throws IOException {
        Path root = dir.resolve("pictures");
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 24; i++) {
            String cls = List.of("cat", "dog", "eel").get(i % 3);
            Color colour = new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256));
            ImageFolderTest.picture(root.resolve(cls + "/" + i + (i % 2 == 0 ? ".png" : ".jpg")), 6 + i, 9, BufferedImage.TYPE_INT_RGB, colour);
        }
        List<String> classes = ImageFolder.classNames(root);
        Shape shape = Shape.of(3, 8, 8);
        Dataset memory = ImageFolder.load(root, shape, classes, "training");
        StreamingLoader loader = new StreamingLoader(new MemoryBound(8 * (4 * 192 + 4)), 2);
        Dataset streamed = ImageFolder.stream(root, shape, classes, "training", loader);
        assertEquals(classes, streamed.classNames());
        assertSameBatches(memory, streamed, new EpochOrder(5, 24).permutation(3), 0, 5);
        assertTrue(loader.peakHeldBytes() <= 8 * (4 * 192 + 4));
    }

    @Test void aPictureThatDoesNotDecodeStopsItsBatchNamingIt() throws IOException {
        Path root = dir.resolve("broken");
        ImageFolderTest.picture(root.resolve("cat/a.png"), 2, 2, BufferedImage.TYPE_INT_RGB, Color.RED);
        Files.writeString(root.resolve("cat/b.png"), "not a png at all");
        Dataset streamed = ImageFolder.stream(root, Shape.of(1, 2, 2), List.of("cat"), "training",
                new StreamingLoader(new MemoryBound(1024), 1));
        float[] x = new float[8], y = new float[2];
        // The first batch asks for the good picture only, but its chunk reads ahead into the bad one.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> streamed.copyBatch(new int[] {0, 1}, 0, 1, x, y));
        assertEquals(root.resolve("cat/b.png") + ": not a PNG, JPEG, BMP, GIF, TIFF or WebP picture", e.getMessage());
        streamed.copyBatch(new int[] {0}, 0, 1, x, y);                 // a later call reads afresh
        assertEquals(0.299f, x[0], 1e-6f, "the red picture's grey value");
    }

    @Test void whatCannotBeStreamedIsRefusedSayingWhy() throws IOException {
        Path folder = idxFolder(dir.resolve("idx"), 20, 5);
        Path images = folder.resolve("train-images-idx3-ubyte");
        assertEquals("memory = 80 bytes holds fewer than two samples [1, 5, 4] (84 bytes each); give at least memory=\"1k\"",
                assertThrows(IllegalArgumentException.class, () -> IdxFolderStream.open(folder, new StreamingLoader(new MemoryBound(80), 1)))
                        .getMessage());

        Path zipped = dir.resolve("zipped");
        Files.createDirectories(zipped);
        for (String name : DatasetLocator.FILE_NAMES) {
            Path from = folder.resolve(name);
            Files.write(zipped.resolve(name + (name.contains("images") ? ".gz" : "")),
                    name.contains("images") ? IdxBytes.gzip(Files.readAllBytes(from)) : Files.readAllBytes(from));
        }
        Path gz = zipped.resolve("train-images-idx3-ubyte.gz");
        assertEquals(gz + ": gzip-compressed; a streamed IDX file is read by offset, so it must be uncompressed (gunzip -c " + gz
                        + " > train-images-idx3-ubyte)",
                assertThrows(FileFormatException.class, () -> IdxFolderStream.open(zipped, new StreamingLoader(new MemoryBound(4096), 1)))
                        .getMessage());

        Files.delete(folder.resolve("t10k-labels-idx1-ubyte"));
        assertEquals("idx: folder " + folder + " has no t10k-labels-idx1-ubyte (the four files are train-images-idx3-ubyte, "
                        + "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)",
                assertThrows(FileFormatException.class, () -> IdxFolderStream.open(folder, new StreamingLoader(new MemoryBound(4096), 1)))
                        .getMessage());

        byte[] whole = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(whole, whole.length - 3));
        assertTrue(assertThrows(FileFormatException.class, () -> new IdxSampleReader(images, Normalization.NONE))
                .getMessage().startsWith(images + ": truncated"));
    }

    private static LayerArgs bind(String source, Map<String, Object> named) {
        return DataSources.schema(source).bind(List.of(), named);
    }

    @Test void theIdxSourceAndTheImagesMemoryArgumentStreamBothSplitsThroughOneLoader() throws IOException {
        idxFolder(dir.resolve("digits"), 60, 12);
        DataSourceLoader.Splits idx = DataSourceLoader.create("idx", bind("idx", Map.of("folder", "digits", "memory", "2k")), 1, dir);
        assertTrue(idx.train().isStreamed() && idx.test().isStreamed());
        assertEquals(12, idx.test().size());
        assertTrue(idx.train().description().endsWith("(at most 2 KiB in memory)"), idx.train().description());

        Path root = dir.resolve("pictures");
        for (int i = 0; i < 10; i++) {
            ImageFolderTest.picture(root.resolve((i < 5 ? "a" : "b") + "/" + i + ".png"), 3, 3, BufferedImage.TYPE_INT_RGB, new Color(25 * i, 0, 0));
        }
        LayerArgs args = bind("images", Map.of("folder", "pictures", "size", new int[] {1, 3, 3}, "memory", "4k"));
        DataSourceLoader.Splits streamed = DataSourceLoader.create("images", args, 9, dir);
        DataSourceLoader.Splits held = DataSourceLoader.create("images", bind("images", Map.of("folder", "pictures", "size", new int[] {1, 3, 3})), 9, dir);
        assertTrue(streamed.train().isStreamed() && streamed.test().isStreamed());
        assertFalse(held.train().isStreamed());
        // The seeded hold-out picks the same pictures whether they are streamed or held.
        assertSameBatches(held.train(), streamed.train(), new EpochOrder(2, held.train().size()).permutation(1), 0, 4);
        assertSameBatches(held.test(), streamed.test(), new int[] {0}, 0, 1);

        assertEquals("idx: memory \"lots\" is not a size; write a whole number of bytes, or one with k, m or g (binary multiples: "
                        + "1m = 1,048,576 bytes), e.g. memory=\"256m\"",
                assertThrows(IllegalArgumentException.class,
                        () -> DataSourceLoader.create("idx", bind("idx", Map.of("folder", "digits", "memory", "lots")), 1, dir)).getMessage());
    }

    @Test void theDatasetSaysItIsStreamedWhereItCannotHandOutAllSamples() throws IOException {
        Path folder = idxFolder(dir.resolve("idx"), 20, 5);
        Dataset streamed = IdxFolderStream.open(folder, new StreamingLoader(new MemoryBound(4096), 1)).train();
        IllegalStateException e = assertThrows(IllegalStateException.class, streamed::features);
        assertTrue(e.getMessage().startsWith("idx is streamed from disk (20 training images streamed from " + folder
                + " (at most 4 KiB in memory)); read its samples with copyBatch"), e.getMessage());
    }
}
