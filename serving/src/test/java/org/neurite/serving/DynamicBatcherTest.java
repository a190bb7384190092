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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.Predictor;

/** How requests become batches: continuous batching up to max_batch, holding for arrivals, the queue bound, draining on close. */
class DynamicBatcherTest {
    @TempDir static Path dir;
    private static ModelFixture lenet;

    @BeforeAll static void load() throws Exception {
        lenet = new ModelFixture("lenet5", 21, dir);
    }

    @AfterAll static void close() {
        lenet.close();
    }

    /** A worker's own predictor over a copy of the LeNet-5 fixture's weights. */
    private static Predictor predictor(int batch, List<AutoCloseable> resources) throws Exception {
        return predictor(lenet, batch, resources);
    }

    /** A worker's own predictor over a copy of {@code model}'s weights. */
    private static Predictor predictor(ModelFixture model, int batch, List<AutoCloseable> resources) throws Exception {
        var runtime = org.neurite.plugin.NeuriteRuntime.discover();
        var backend = runtime.createBackend("cpu", new org.neurite.plugin.BackendOptions(1, null), List.of(), w -> { });
        ParameterStore store = new ParameterStore(model.graph, backend, 0);
        Checkpoints.loadWeights(model.weights, store);
        Predictor p = new Predictor(model.graph, store, batch);
        resources.addAll(List.of(p, store, backend, runtime));
        return p;
    }

    /**
     * Records every batch's size and holds the worker inside its first batch until released, so
     * that a test can queue requests while the worker computes (latches, no timing).
     */
    private static final class HeldFirstBatch implements DynamicBatcher.BatchListener {
        final List<Integer> sizes = new CopyOnWriteArrayList<>();
        final CountDownLatch running = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override public void batch(int samples, long nanos) {
            sizes.add(samples);
            if (sizes.size() > 1) return;
            running.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test void whatQueuesWhileTheWorkerComputesIsItsNextBatchAndEachRequestGetsItsOwnRows() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        HeldFirstBatch held = new HeldFirstBatch();
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 8, 0, 16, List.of(predictor(8, resources)), held);
        try {
            float[] x = lenet.samples(8, 1);
            CompletableFuture<float[]> a = batcher.submit(Arrays.copyOfRange(x, 0, 784), 1);
            assertTrue(held.running.await(30, TimeUnit.SECONDS));
            // Queued while the worker is busy with a: they run together next, 5 + 2 = 7 samples (pieces 4, 2, 1).
            CompletableFuture<float[]> b = batcher.submit(Arrays.copyOfRange(x, 784, 6 * 784), 5);
            CompletableFuture<float[]> c = batcher.submit(Arrays.copyOfRange(x, 6 * 784, 8 * 784), 2);
            held.release.countDown();
            float[] y = new float[8 * 10];
            System.arraycopy(a.get(30, TimeUnit.SECONDS), 0, y, 0, 10);
            System.arraycopy(b.get(30, TimeUnit.SECONDS), 0, y, 10, 50);
            System.arraycopy(c.get(30, TimeUnit.SECONDS), 0, y, 60, 20);
            assertEquals(List.of(1, 7), held.sizes);
            for (int i = 0; i < 8; i++) {
                assertArrayEquals(lenet.predict(Arrays.copyOfRange(x, i * 784, (i + 1) * 784)), Arrays.copyOfRange(y, i * 10, i * 10 + 10),
                        "sample " + i + ": bit for bit what the predictor gives it alone");
            }
        } finally {
            held.release.countDown();
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void aRequestThatDoesNotFitStartsTheNextBatch() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        HeldFirstBatch held = new HeldFirstBatch();
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 4, 0, 16, List.of(predictor(4, resources)), held);
        try {
            CompletableFuture<float[]> first = batcher.submit(lenet.samples(1, 1), 1);
            assertTrue(held.running.await(30, TimeUnit.SECONDS));
            CompletableFuture<float[]> a = batcher.submit(lenet.samples(3, 2), 3);
            CompletableFuture<float[]> b = batcher.submit(lenet.samples(3, 3), 3);
            CompletableFuture<float[]> c = batcher.submit(lenet.samples(1, 4), 1);
            held.release.countDown();
            CompletableFuture.allOf(first, a, b, c).get(30, TimeUnit.SECONDS);
            assertEquals(List.of(1, 3, 4), held.sizes, "3 alone (3 + 3 > 4), then 3 + 1");
        } finally {
            held.release.countDown();
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void anIdleWorkerHoldsItsBatchForArrivingRequestsUntilNoneIsLeft() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        List<Integer> batches = new CopyOnWriteArrayList<>();
        // A delay far longer than the test: only the arrivals' ending can release the batch.
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 8, 600_000, 16, List.of(predictor(8, resources)), (n, t) -> batches.add(n));
        try {
            DynamicBatcher.Arrival decoded = batcher.arrive();
            DynamicBatcher.Arrival refused = batcher.arrive();
            CompletableFuture<float[]> a = batcher.submit(lenet.samples(1, 5), 1);
            CompletableFuture<float[]> b = decoded.submit(lenet.samples(2, 6), 2);
            assertEquals(List.of(), batches, "one request is still arriving");
            refused.close();   // e.g. a request answered 400: nothing more is coming
            CompletableFuture.allOf(a, b).get(30, TimeUnit.SECONDS);
            assertEquals(List.of(3), batches);
            assertEquals(0, batcher.queueDepth());
        } finally {
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void aFullBatchRunsWithoutWaitingForArrivals() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        List<Integer> batches = new CopyOnWriteArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 2, 600_000, 16, List.of(predictor(2, resources)), (n, t) -> batches.add(n));
        try (DynamicBatcher.Arrival stillComing = batcher.arrive()) {
            CompletableFuture<float[]> a = batcher.submit(lenet.samples(1, 7), 1);
            CompletableFuture<float[]> b = batcher.submit(lenet.samples(1, 8), 1);
            CompletableFuture.allOf(a, b).get(30, TimeUnit.SECONDS);
            assertEquals(List.of(2), batches);
        } finally {
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void withNoDelayAnIdleWorkerRunsAtOnceWhateverIsArriving() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        List<Integer> batches = new CopyOnWriteArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 8, 0, 16, List.of(predictor(8, resources)), (n, t) -> batches.add(n));
        try (DynamicBatcher.Arrival stillComing = batcher.arrive()) {
            float[] x = lenet.samples(1, 9);
            assertArrayEquals(lenet.predict(x), batcher.submit(x, 1).get(30, TimeUnit.SECONDS));
            assertEquals(List.of(1), batches);
        } finally {
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void anArrivalRefusedByAClosedBatcherIsAnswered503() {
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 8, 600_000, 4, List.of(), (n, t) -> { });
        DynamicBatcher.Arrival late = batcher.arrive();
        batcher.close();
        InferenceError closed = assertThrows(InferenceError.class, () -> late.submit(new float[784], 1));
        assertEquals(503, closed.status());
        assertThrows(IllegalStateException.class, () -> late.submit(new float[784], 1), "an arrival ends once");
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

    @Test void aFailingRequestGetsItsReasonAndTheWorkerGoesOn() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        DynamicBatcher batcher = new DynamicBatcher("lenet5", 784, 10, 4, 0, 16, List.of(predictor(4, resources)), (n, t) -> { });
        try {
            // Too few floats for the sample count: the predictor refuses its argument, the request's fault.
            ExecutionException refused = assertThrows(ExecutionException.class, () -> batcher.submit(new float[10], 1).get(30, TimeUnit.SECONDS));
            assertEquals(400, ((InferenceError) refused.getCause()).status());
            assertEquals("model 'lenet5' cannot take this input: expected 1 samples of 784 floats, got 10 floats", refused.getCause().getMessage());
            // No input at all fails inside the worker: the server's fault.
            ExecutionException failed = assertThrows(ExecutionException.class, () -> batcher.submit(null, 1).get(30, TimeUnit.SECONDS));
            assertEquals(500, ((InferenceError) failed.getCause()).status());
            assertTrue(failed.getCause().getMessage().startsWith("model 'lenet5' failed on a batch of 1 samples: NullPointerException"),
                    failed.getCause().getMessage());
            float[] x = lenet.samples(1, 9);
            assertArrayEquals(lenet.predict(x), batcher.submit(x, 1).get(30, TimeUnit.SECONDS), 1e-5f);
        } finally {
            batcher.close();
            for (AutoCloseable r : resources) r.close();
        }
    }

    @Test void aBadInputFailsOnlyItsOwnRequestAndTheRestOfItsBatchIsAnswered() throws Exception {
        List<AutoCloseable> resources = new ArrayList<>();
        HeldFirstBatch held = new HeldFirstBatch();
        try (ModelFixture lookup = ModelFixture.lookup(5, dir)) {
            DynamicBatcher batcher = new DynamicBatcher("lookup", 4, 2, 8, 0, 16, List.of(predictor(lookup, 8, resources)), held);
            try {
                CompletableFuture<float[]> first = batcher.submit(new float[] {0, 1, 2, 3}, 1);
                assertTrue(held.running.await(30, TimeUnit.SECONDS));
                // Queued while the worker is busy: one batch of 1 + 1 + 2 samples, whose second request
                // holds an index past the embedding's 10 rows.
                float[] good = {4, 5, 6, 7};
                float[] twoGood = {9, 8, 7, 6, 0, 0, 0, 0};
                CompletableFuture<float[]> a = batcher.submit(good, 1);
                CompletableFuture<float[]> bad = batcher.submit(new float[] {1, 2, 99, 3}, 1);
                CompletableFuture<float[]> b = batcher.submit(twoGood, 2);
                held.release.countDown();
                assertArrayEquals(lookup.predict(new float[] {0, 1, 2, 3}), first.get(30, TimeUnit.SECONDS));
                assertArrayEquals(lookup.predict(good), a.get(30, TimeUnit.SECONDS));
                float[] y = b.get(30, TimeUnit.SECONDS);
                assertArrayEquals(lookup.predict(Arrays.copyOfRange(twoGood, 0, 4)), Arrays.copyOfRange(y, 0, 2));
                assertArrayEquals(lookup.predict(Arrays.copyOfRange(twoGood, 4, 8)), Arrays.copyOfRange(y, 2, 4));
                ExecutionException e = assertThrows(ExecutionException.class, () -> bad.get(30, TimeUnit.SECONDS));
                assertEquals(400, ((InferenceError) e.getCause()).status());
                assertEquals("model 'lookup' cannot take this input: index 99.0 of row 2 is not a row of the table [0, 10)",
                        e.getCause().getMessage());
                assertEquals(List.of(1, 1, 2), held.sizes, "the batch of 4 failed; its good requests ran again alone");
            } finally {
                held.release.countDown();
                batcher.close();
                for (AutoCloseable r : resources) r.close();
            }
        }
    }
}
