package org.neurite.serving;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.neurite.engine.Predictor;

/**
 * Coalesces concurrent requests for one model into batches. A free worker runs what is queued, up
 * to {@code maxBatch} samples, when the {@link BatchDispatchRule} says so: what queued while it
 * computed is its next batch at once (continuous batching); an idle worker may hold a part-filled
 * batch up to {@code maxDelayMs} for requests still being received ({@link #arrive}). Each worker owns its
 * {@link Predictor} (compiled models are not thread-safe). The queue is bounded: a request beyond
 * {@code queueLimit} is refused at once (429) instead of waiting. When a batch fails, its requests
 * run again one at a time, so that one request's bad input fails only that request (400 when the
 * model refuses the input, 500 for anything else), and the worker goes on; {@link #close} refuses
 * new requests (503) and lets the workers finish every request already queued.
 */
final class DynamicBatcher implements AutoCloseable {
    /** Hears of every batch run: how many samples, and how long its forward pass took. */
    interface BatchListener {
        void batch(int samples, long nanos);
    }

    /** One request: {@code count} samples of the model's input, when it was queued, and where its outputs go. */
    private record Pending(float[] input, int count, long queuedAt, CompletableFuture<float[]> result) { }

    /**
     * A request for this model that the HTTP layer is still receiving or decoding: while one is
     * open, a worker with a part-filled batch may wait (up to {@code maxDelayMs}) for it. It ends by
     * {@link #submit} or, for a request refused before it reached the queue, by {@link #close}.
     * Used by the one thread that handles the request.
     */
    final class Arrival implements AutoCloseable {
        private boolean open = true;

        /** Queues the request and ends the arrival in one step; see {@link DynamicBatcher#submit}. */
        CompletableFuture<float[]> submit(float[] input, int count) {
            if (!open) throw new IllegalStateException("this arrival has already ended");
            open = false;
            return enqueue(input, count, true);
        }

        /** Ends the arrival if no request was submitted (a refused or failed request). */
        @Override public void close() {
            if (!open) return;
            open = false;
            lock.lock();
            try {
                arriving--;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private final String model;
    private final int inputSize;
    private final int outputSize;
    private final BatchDispatchRule rule;
    private final int queueLimit;
    private final List<Thread> workers = new ArrayList<>();
    private final BatchListener onBatch;
    // The queue, its sample count, the open arrivals and the closed flag, guarded by lock; changed is
    // signalled whenever any of them changes, so a waiting worker asks the rule again.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private int queuedSamples;
    private int arriving;
    private boolean closed;

    /**
     * @param predictors one predictor per worker, each used by that worker's thread alone
     * @param onBatch told the sample count and forward-pass time of every batch run (the batch histograms)
     */
    DynamicBatcher(String model, int inputSize, int outputSize, int maxBatch, int maxDelayMs, int queueLimit,
                   List<Predictor> predictors, BatchListener onBatch) {
        this.model = model;
        this.inputSize = inputSize;
        this.outputSize = outputSize;
        this.rule = new BatchDispatchRule(maxBatch, maxDelayMs);
        this.queueLimit = queueLimit;
        this.onBatch = onBatch;
        for (int i = 0; i < predictors.size(); i++) {
            Predictor p = predictors.get(i);
            Thread t = new Thread(() -> work(p), "batcher-" + model + "-" + i);
            t.setDaemon(true);
            workers.add(t);
        }
        workers.forEach(Thread::start);
    }

    /** Requests waiting for a worker. */
    int queueDepth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /** Marks a request for this model as on its way (being received or decoded); end it with submit or close. */
    Arrival arrive() {
        lock.lock();
        try {
            arriving++;
        } finally {
            lock.unlock();
        }
        return new Arrival();
    }

    /**
     * Queues {@code count} samples; the future completes with their {@code count * outputSize}
     * outputs, or exceptionally with an {@link InferenceError}.
     */
    CompletableFuture<float[]> submit(float[] input, int count) {
        return enqueue(input, count, false);
    }

    private CompletableFuture<float[]> enqueue(float[] input, int count, boolean endsArrival) {
        Pending p = new Pending(input, count, System.nanoTime(), new CompletableFuture<>());
        lock.lock();
        try {
            // Under the lock that closing takes: once closed is set, no request can slip into the
            // queue after the workers have seen it empty and left.
            if (endsArrival) {
                arriving--;
                changed.signalAll();
            }
            if (closed) throw new InferenceError(503, "the server is shutting down; model '" + model + "' takes no new requests");
            if (queue.size() >= queueLimit) {
                throw new InferenceError(429, "model '" + model + "' has " + queue.size()
                        + " requests waiting (its queue_limit); retry later");
            }
            queue.add(p);
            queuedSamples += count;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return p.result();
    }

    private void work(Predictor predictor) {
        List<Pending> batch = new ArrayList<>();
        // This worker's input buffers, reused by every batch: [maxBatch * inputSize] for the packed
        // batch, and one [2^k * inputSize] per power-of-two piece (see forward), made when first needed.
        float[] packed = new float[rule.maxBatch() * inputSize];
        float[][] pieces = new float[Integer.SIZE][];
        while (true) {
            int samples;
            lock.lock();
            try {
                if (!awaitBatch()) return;
                samples = take(batch);
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            run(predictor, batch, samples, packed, pieces);
        }
    }

    /**
     * With the lock held: waits until the rule says to run the queue (at once when closing).
     * Returns false when the batcher is closed and nothing is left to run.
     */
    private boolean awaitBatch() throws InterruptedException {
        boolean wasIdle = false;
        while (true) {
            if (queue.isEmpty()) {
                if (closed) return false;
                wasIdle = true;
                changed.await();
                continue;
            }
            long wait = closed ? 0 : rule.waitNanos(queuedSamples, arriving, System.nanoTime() - queue.peek().queuedAt(), wasIdle);
            if (wait <= 0) return true;
            changed.awaitNanos(wait);
        }
    }

    /**
     * With the lock held: moves requests from the head of the queue into {@code batch} while they
     * fit in {@code maxBatch} samples (the first always goes; one of more than {@code maxBatch}
     * samples runs alone), and returns their sample count. A request that does not fit stays first
     * in the queue and starts the next batch.
     */
    private int take(List<Pending> batch) {
        batch.clear();
        Pending first = queue.poll();
        batch.add(first);
        int samples = first.count();
        for (Pending next; (next = queue.peek()) != null && samples + next.count() <= rule.maxBatch(); ) {
            batch.add(queue.poll());
            samples += next.count();
        }
        queuedSamples -= samples;
        return samples;
    }

    /**
     * One forward pass over the batch's samples, packed in queue order; each request gets its rows.
     * When the pass fails, and the batch holds several requests, each runs again alone: an input
     * only the model can refuse (an embedding index past its table, whatever a plugin layer checks)
     * then fails its own request, and the others of the batch get their answers.
     */
    private void run(Predictor predictor, List<Pending> batch, int samples, float[] packed, float[][] pieces) {
        try {
            float[] x;
            if (batch.size() == 1) {
                x = batch.get(0).input();
            } else {
                x = packed;
                int at = 0;
                for (Pending p : batch) {
                    System.arraycopy(p.input(), 0, x, at, p.count() * inputSize);
                    at += p.count() * inputSize;
                }
            }
            long start = System.nanoTime();
            float[] y = forward(predictor, x, samples, pieces);
            onBatch.batch(samples, System.nanoTime() - start);
            int at = 0;
            for (Pending p : batch) {
                int n = p.count() * outputSize;
                float[] rows = new float[n];
                System.arraycopy(y, at, rows, 0, n);
                at += n;
                p.result().complete(rows);
            }
        } catch (RuntimeException e) {
            if (batch.size() == 1) {
                batch.get(0).result().completeExceptionally(failure(e, samples));
            } else {
                for (Pending p : batch) runAlone(predictor, p, pieces);
            }
        } catch (Error e) {
            // The worker survives a failing batch: its requests are answered, the next batch runs.
            InferenceError error = failure(e, samples);
            for (Pending p : batch) p.result().completeExceptionally(error);
        }
    }

    /** One request's own forward pass, after its batch failed. */
    private void runAlone(Predictor predictor, Pending p, float[][] pieces) {
        try {
            long start = System.nanoTime();
            float[] y = forward(predictor, p.input(), p.count(), pieces);
            onBatch.batch(p.count(), System.nanoTime() - start);
            p.result().complete(y);
        } catch (RuntimeException | Error e) {
            p.result().completeExceptionally(failure(e, p.count()));
        }
    }

    /**
     * What a request gets when its forward pass failed: an IllegalArgumentException is the model
     * refusing the input's values (the codec has already checked its shape), so the client sent a
     * bad request (400); anything else is the server's failure (500).
     */
    private InferenceError failure(Throwable e, int samples) {
        if (e instanceof IllegalArgumentException && e.getMessage() != null) {
            return InferenceError.badRequest("model '" + model + "' cannot take this input: " + e.getMessage());
        }
        return new InferenceError(500, "model '" + model + "' failed on a batch of " + samples
                + " samples: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
    }

    /**
     * The batch's outputs from forward passes over pieces of power-of-two sizes (23 = 16 + 4 + 2 + 1).
     * A predictor compiles a model for every batch size it sees; batches of any size would make a
     * worker compile up to {@code max_batch} of them (memory, and a pause at each new size), pieces
     * keep it to log2(max_batch) + 1, all compiled by {@link #warmUp} before the first request.
     */
    private float[] forward(Predictor predictor, float[] x, int samples, float[][] pieces) {
        // The predictor reads the first samples * inputSize floats of x; x may be longer (the worker's packed buffer).
        if (Integer.bitCount(samples) == 1) return predictor.predict(x, samples);
        float[] y = new float[samples * outputSize];
        for (int done = 0; done < samples; ) {
            int piece = Integer.highestOneBit(samples - done);
            int log = Integer.numberOfTrailingZeros(piece);
            if (pieces[log] == null) pieces[log] = new float[piece * inputSize];
            System.arraycopy(x, done * inputSize, pieces[log], 0, piece * inputSize);
            float[] part = predictor.predict(pieces[log], piece);
            System.arraycopy(part, 0, y, done * outputSize, part.length);
            done += piece;
        }
        return y;
    }

    /** Compiles every piece size a batch of up to {@code maxBatch} samples uses (1, 2, 4, ...), on zeros. */
    static void warmUp(Predictor predictor, int maxBatch) {
        for (int n = 1; n <= maxBatch; n *= 2) predictor.predict(new float[n * predictor.inputSize()], n);
    }

    /** Refuses new requests and waits (up to {@code timeoutMs}) for the workers to answer every queued one. */
    void drain(long timeoutMs) {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        long deadline = System.currentTimeMillis() + timeoutMs;
        for (Thread t : workers) {
            try {
                t.join(Math.max(1, deadline - System.currentTimeMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override public void close() {
        drain(30_000);
        InferenceError gone = new InferenceError(503, "the server stopped before model '" + model + "' could answer");
        List<Pending> left;
        lock.lock();
        try {
            left = new ArrayList<>(queue);
            queue.clear();
            queuedSamples = 0;
        } finally {
            lock.unlock();
        }
        for (Pending p : left) p.result().completeExceptionally(gone);
    }
}
