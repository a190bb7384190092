package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.Predictor;

/** How requests become batches: coalescing up to max_batch, the queue bound, draining on close. */
class DynamicBatcherTest {
    @TempDir static Path dir;
    private static ModelFixture lenet;

    @BeforeAll static void load() throws Exception {
        lenet = new ModelFixture("lenet5", 21, dir);
    }

    @AfterAll static void close() {
        lenet.close();
    }

    /** A worker's own predictor over a copy of the fixture's weights. */
    private static Predictor predictor(int batch, List<AutoCloseable> resources) throws Exception {
        var runtime = org.neurite.plugin.NeuriteRuntime.discover();
        var backend = runtime.createBackend("cpu", new org.neurite.plugin.BackendOptions(1, null), List.of(), w -> { });
        ParameterStore store = new ParameterStore(lenet.graph, backend, 0);
        Checkpoints.loadWeights(lenet.weights, store);
        Predictor p = new Predictor(lenet.graph, store, batch);
        resources.addAll(List.of(p, store, backend, runtime));
        return p;
    }

    @Test void concurrentRequestsShareOneBatchAndGetTheirOwnRows() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        List<Integer> batches = new CopyOnWriteArrayList<>();
        // A long delay: the worker waits for the batch to fill, so 5 + 2 samples make exactly one batch of 7
        // (run as pieces of 4, 2 and 1).
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 7, 5_000, 16, List.of(predictor(7, resources)), (n, t) -> batches.add(n));
        try {
            float[] x = lenet.samples(7, 1);
            CompletableFuture<float[]> a = batcher.submit(Arrays.copyOfRange(x, 0, 5 * 784), 5);
            CompletableFuture<float[]> b = batcher.submit(Arrays.copyOfRange(x, 5 * 784, 7 * 784), 2);
            float[] ya = a.get(30, TimeUnit.SECONDS);
            float[] yb = b.get(30, TimeUnit.SECONDS);
            assertEquals(List.of(7), batches);
            for (int i = 0; i < 7; i++) {
                float[] row = i < 5 ? Arrays.copyOfRange(ya, i * 10, i * 10 + 10) : Arrays.copyOfRange(yb, (i - 5) * 10, (i - 4) * 10);
                assertArrayEquals(lenet.predict(Arrays.copyOfRange(x, i * 784, (i + 1) * 784)), row, "sample " + i);
            }
        } finally {
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void aRequestThatDoesNotFitStartsTheNextBatch() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        List<Integer> batches = new CopyOnWriteArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 4, 5_000, 16, List.of(predictor(4, resources)), (n, t) -> batches.add(n));
        try {
            CompletableFuture<float[]> a = batcher.submit(lenet.samples(3, 2), 3);
            CompletableFuture<float[]> b = batcher.submit(lenet.samples(3, 3), 3);
            CompletableFuture<float[]> c = batcher.submit(lenet.samples(1, 4), 1);
            CompletableFuture.allOf(a, b, c).get(30, TimeUnit.SECONDS);
            assertEquals(List.of(3, 4), batches, "3 alone (3 + 3 > 4), then 3 + 1");
        } finally {
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void aFullQueueRefusesWith429AndAClosedOneWith503() {
        // No worker: nothing leaves the queue, so the bound is reached exactly.
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 8, 0, 2, List.of(), (n, t) -> { });
        CompletableFuture<float[]> first = batcher.submit(new float[784], 1);
        batcher.submit(new float[784], 1);
        InferenceError full = assertThrows(InferenceError.class, () -> batcher.submit(new float[784], 1));
        assertEquals(429, full.status());
        assertEquals("model 'lenet5' has 2 requests waiting (its queue_limit); retry later", full.getMessage());
        batcher.close();
        ExecutionException gone = assertThrows(ExecutionException.class, first::get);
        assertEquals("the server stopped before model 'lenet5' could answer", gone.getCause().getMessage());
        InferenceError closed = assertThrows(InferenceError.class, () -> batcher.submit(new float[784], 1));
        assertEquals(503, closed.status());
    }

    @Test void aFailingBatchFailsItsRequestsAndTheWorkerGoesOn() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 4, 0, 16, List.of(predictor(4, resources)), (n, t) -> { });
        try {
            // Too few floats for the sample count: the predictor refuses the batch.
            ExecutionException e = assertThrows(ExecutionException.class, () -> batcher.submit(new float[10], 1).get(30, TimeUnit.SECONDS));
            assertEquals(500, ((InferenceError) e.getCause()).status());
            assertTrue(e.getCause().getMessage().startsWith("model 'lenet5' failed on a batch of 1 samples: IllegalArgumentException"),
                    e.getCause().getMessage());
            float[] x = lenet.samples(1, 9);
            assertArrayEquals(lenet.predict(x), batcher.submit(x, 1).get(30, TimeUnit.SECONDS), 1e-5f);
        } finally {
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }
}
