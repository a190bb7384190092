package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.backend.Backend;
import org.neurite.data.DataSourceLoader;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.data.IdxFolderStream;
import org.neurite.data.IdxWriter;
import org.neurite.data.Normalization;
import org.neurite.data.StreamingLoader;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.train.MemoryBound;
import org.neurite.train.TrainSpec;

/**
 * Training on data streamed from disk ({@code data = idx(folder=..., memory=...)}): the same seed
 * gives the same weights, bit for bit, as training on the same files held in memory; and a
 * dataset ten times the loader's memory bound trains while the loader holds at most the bound —
 * by its own count and by the heap, measured after a full collection every few steps.
 *
 * <p>The normal build runs a 5.2 MiB dataset against a 512 KiB bound with a small model; with
 * {@code -Dneurite.slow=true} LeNet-5 trains an epoch of an 82 MiB dataset against an 8 MiB bound.
 */
class StreamedTrainingTest {
    private static final int BATCH = 64;

    @TempDir Path dir;

    /** The four IDX files of a dataset of {@code count} 28 x 28 images (and {@code count / 8} test images) made by {@code pixel}. */
    private static Path writeIdx(Path folder, int count, Pixels pixel) throws IOException {
        for (String split : List.of("train", "t10k")) {
            int n = split.equals("train") ? count : Math.max(1, count / 8);
            IdxWriter.write(folder.resolve(split + "-images-idx3-ubyte"), new int[] {n, 28, 28}, (offset, block, k) -> {
                for (int i = 0; i < k; i++) block[i] = pixel.at(split, offset + i);
            });
            IdxWriter.write(folder.resolve(split + "-labels-idx1-ubyte"), new int[] {n}, (offset, block, k) -> {
                for (int i = 0; i < k; i++) block[i] = (byte) pixel.label(split, (int) (offset + i));
            });
        }
        return folder;
    }

    /** Pixel {@code value} of a split's images file (image {@code value / 784}), and each image's label. */
    private interface Pixels {
        byte at(String split, long value);

        int label(String split, int image);
    }

    private static Backend cpu(int threads) {
        return Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {});
    }

    private static List<NamedTensor> train(TypedGraph graph, TrainSpec spec, Dataset data) {
        try (Backend backend = cpu(2);
             ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            trainer.trainEpoch(data, 1, TrainingListener.NONE);
            trainer.trainEpoch(data, 2, TrainingListener.NONE);
            return store.export();
        }
    }

    @Test void aStreamedRunTrainsBitForBitLikeTheSameFilesHeldInMemory() throws IOException {
        // 256 Fashion-MNIST images written back to IDX bytes: real pictures, so the weights move the way they do in use.
        Dataset subset = Fixtures.bundledSubset().train();
        Path folder = writeIdx(dir.resolve("fashion"), 256, new Pixels() {
            @Override public byte at(String split, long value) {
                return (byte) Math.round(subset.features()[(int) value % subset.features().length] * 255);
            }

            @Override public int label(String split, int image) {
                return subset.label(image % subset.size());
            }
        });
        Dataset held = DatasetLocator.standard(folder).locate(folder.toString(), Normalization.NONE, SourceSpan.UNKNOWN).train();
        StreamingLoader loader = new StreamingLoader(new MemoryBound(256 << 10), 2);
        Dataset streamed = IdxFolderStream.open(folder, loader).train();

        Script script = Fixtures.example("lenet5.nn");
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("LeNet5").orElseThrow().with(BATCH, 2, 5);
        List<NamedTensor> fromMemory = train(graph, spec, held);
        List<NamedTensor> fromDisk = train(graph, spec, streamed);      // 2 epochs of 4 steps, shuffled per epoch
        assertEquals(fromMemory.size(), fromDisk.size());
        for (int i = 0; i < fromMemory.size(); i++) {
            assertArrayEquals(fromMemory.get(i).data(), fromDisk.get(i).data(), 0f, fromMemory.get(i).name());
        }
        assertTrue(loader.peakHeldBytes() <= 256 << 10);
    }

    @Test void aDatasetTenTimesTheBoundTrainsWithinTheBound() throws IOException {
        String mlp = """
                model Mlp {
                    input image: [1, 28, 28]
                    h = flatten -> dense(32) -> relu
                    output logits = dense(10)
                }
                train Mlp { optimizer = sgd(lr=0.05); batch = 64; seed = 3 }
                """;
        assertTrainsWithinBound(Fixtures.model(mlp), new ScriptSpec(mlp, "Mlp"), new MemoryBound(512 << 10), 108 * BATCH, 12);
    }

    @Test @EnabledIfSystemProperty(named = "neurite.slow", matches = "true")
    void lenet5TrainsAnEpochOfADatasetTenTimesTheBound() throws IOException {
        Script script = Fixtures.example("lenet5.nn");
        TypedGraph graph = script.mainModel();
        assertTrainsWithinBound(graph, new ScriptSpec(null, "LeNet5"), new MemoryBound(8L << 20), 1719 * BATCH, 100);
    }

    /** Where the train section comes from: {@code source} parsed, or the LeNet-5 example when it is null. */
    private record ScriptSpec(String source, String model) {
        TrainSpec spec() throws IOException {
            Script script = source == null ? Fixtures.example("lenet5.nn")
                    : new ScriptLoader(Fixtures.RUNTIME.layers()).parse("test.nn", source);
            return script.training(model).orElseThrow().with(BATCH, 1, 3);
        }
    }

    /**
     * Writes {@code samples} images (at least ten times {@code bound} on disk), trains one epoch on
     * them streamed, and checks the loader's count and the retained heap (after a full collection
     * every {@code every} steps) against the bound.
     */
    private void assertTrainsWithinBound(TypedGraph graph, ScriptSpec source, MemoryBound bound, int samples, int every) throws IOException {
        Path folder = writeIdx(dir.resolve("large"), samples, new Pixels() {
            @Override public byte at(String split, long value) {
                return (byte) ((value * 0x9E3779B97F4A7C15L) >>> 56);   // a Fibonacci hash: noise, cheaply
            }

            @Override public int label(String split, int image) {
                return image % 10;
            }
        });
        long onDisk = (long) samples * 28 * 28;
        assertTrue(onDisk >= 10 * bound.bytes(), "the dataset is " + onDisk + " bytes on disk");
        StreamingLoader loader = new StreamingLoader(bound, 2);
        DataSourceLoader.Splits splits = IdxFolderStream.open(folder, loader);
        TrainSpec spec = source.spec();
        long[] rise = new long[1];
        try (Backend backend = cpu(2);
             ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Trainer trainer = new Trainer(graph, store, spec)) {
            // Compile the batch-64 model and fill the optimiser state on held data first, so the rise measured below is the loader's.
            trainer.trainEpoch(heldBatch(graph), 1, TrainingListener.NONE);
            long before = retainedHeapAfterFullCollection();
            EpochStats epoch = trainer.trainEpoch(splits.train(), 1, new TrainingListener() {
                int steps;

                @Override public void batchDone(int e, long done, long total, double meanLoss, double accuracy) {
                    if (++steps % every == 0 || done == total) {
                        rise[0] = Math.max(rise[0], retainedHeapAfterFullCollection() - before);
                    }
                }
            });
            assertEquals(samples, epoch.samples());
            assertTrue(Double.isFinite(epoch.loss()));
        }
        long held = loader.peakHeldBytes();
        assertTrue(held > bound.bytes() / 2 && held <= bound.bytes(), "the loader held at most " + held + " bytes against " + bound);
        // Besides the loader's buffers the heap holds the trainer's epoch order (4 bytes a sample) and small change:
        // up to 256 KiB. The MLP's rise was 538-562 KB in most of 19 runs (at 1487e4e and later, 2026-12-06) and
        // 661-746 KB in four, cause not found (the loader's buffers all counted; the least of three collections per
        // reading still gave 664 KB once); holding the streamed data would be megabytes (21 MB as floats).
        long allowance = 4L * samples + (256 << 10);
        System.out.printf("streamed %,d samples (%,d bytes on disk, %,d as floats) with memory = %s: loader peak %,d bytes, "
                        + "retained heap rise at most %,d bytes%n", samples, onDisk, 4 * onDisk, bound, held, rise[0]);
        assertTrue(rise[0] <= bound.bytes() + allowance, "retained heap rose " + rise[0] + " bytes against a bound of " + bound);
    }

    /**
     * The heap that survives a full collection: the sum of each heap pool's usage as the collector
     * left it ({@link MemoryPoolMXBean#getCollectionUsage}). The heap's current usage would also
     * count what other threads allocated since (the loader's reader and the backend's workers
     * each take a fresh allocation buffer of up to megabytes right after a collection), which made
     * the bound fail at random on a loaded machine.
     */
    private static long retainedHeapAfterFullCollection() {
        System.gc();
        long retained = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() != MemoryType.HEAP) continue;
            MemoryUsage afterCollection = pool.getCollectionUsage();
            retained += (afterCollection != null ? afterCollection : pool.getUsage()).getUsed();
        }
        return retained;
    }

    /**
     * Held zeros to compile the model with and to bring the backend to its steady state: 16 batches,
     * not one. The CPU backend's GEMM allocates each worker's packed panels (4.5 MB) the first time
     * that worker runs a part; after a single warm-up step the second worker sometimes had not yet,
     * and the measured epoch then showed a rise of 9.44-9.47 MB (two such panel sets), in
     * one CI run of five and one isolated run of five.
     */
    private static Dataset heldBatch(TypedGraph graph) {
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        int samples = 16 * BATCH;
        return new Dataset("warm-up", sample, new float[samples * sample.size()], new int[samples], 10, List.of(), false, "zeros");
    }
}
