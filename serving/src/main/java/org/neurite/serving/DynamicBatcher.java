package org.neurite.serving;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.neurite.engine.Predictor;

/**
 * Coalesces concurrent requests for one model into batches: a worker takes the oldest waiting
 * request, then keeps taking requests until the batch holds {@code maxBatch} samples or
 * {@code maxDelayMs} have passed since the first, runs one forward pass, and hands every request
 * its rows. Each worker owns its {@link Predictor} (compiled models are not thread-safe). The queue
 * is bounded: a request beyond {@code queueLimit} is refused at once (429) instead of waiting.
 * A failing batch fails its requests (500) and the worker goes on; {@link #close} refuses new
 * requests (503) and lets the workers finish every request already queued.
 */
final class DynamicBatcher implements AutoCloseable {
    /** Hears of every batch run: how many samples, and how long its forward pass took. */
    interface BatchListener {
        void batch(int samples, long nanos);
    }

    /** One request: {@code count} samples of the model's input, and where its outputs go. */
    private record Pending(float[] input, int count, CompletableFuture<float[]> result) { }

    private final String model;
    private final int inputSize;
    private final int outputSize;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final BlockingQueue<Pending> queue;
    private final List<Thread> workers = new ArrayList<>();
    private final BatchListener onBatch;
    private volatile boolean closed;

    /**
     * @param predictors one predictor per worker, each used by that worker's thread alone
     * @param onBatch told the sample count and forward-pass time of every batch run (the batch histograms)
     */
    DynamicBatcher(String model, int inputSize, int outputSize, int maxBatch, int maxDelayMs, int queueLimit,
                   List<Predictor> predictors, BatchListener onBatch) {
        this.model = model;
        this.inputSize = inputSize;
        this.outputSize = outputSize;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxDelayMs);
        this.queue = new ArrayBlockingQueue<>(queueLimit);
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
    int queueDepth() { return queue.size(); }

    /**
     * Queues {@code count} samples; the future completes with their {@code count * outputSize}
     * outputs, or exceptionally with an {@link InferenceError}.
     */
    CompletableFuture<float[]> submit(float[] input, int count) {
        Pending p = new Pending(input, count, new CompletableFuture<>());
        // Under the lock that closing takes: once closed is set, no request can slip into the queue
        // after the workers have seen it empty and left.
        synchronized (this) {
            if (closed) throw new InferenceError(503, "the server is shutting down; model '" + model + "' takes no new requests");
            if (!queue.offer(p)) {
                throw new InferenceError(429, "model '" + model + "' has " + queue.size()
                        + " requests waiting (its queue_limit); retry later");
            }
        }
        return p.result();
    }

    private void work(Predictor predictor) {
        Pending carried = null;   // a request that did not fit the last batch; it starts the next one
        List<Pending> batch = new ArrayList<>();
        // This worker's input buffers, reused by every batch: [maxBatch * inputSize] for the packed
        // batch, and one [2^k * inputSize] per power-of-two piece (see forward), made when first needed.
        float[] packed = new float[maxBatch * inputSize];
        float[][] pieces = new float[Integer.SIZE][];
        while (true) {
            Pending first;
            try {
                first = carried != null ? carried : queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            carried = null;
            if (first == null) {
                if (closed && queue.isEmpty()) return;
                continue;
            }
            batch.clear();
            batch.add(first);
            int samples = first.count();
            long deadline = System.nanoTime() + maxDelayNanos;
            while (samples < maxBatch) {
                Pending next = queue.poll();
                if (next == null) {
                    long wait = deadline - System.nanoTime();
                    if (wait <= 0 || closed) break;
                    try {
                        next = queue.poll(wait, TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    if (next == null) break;
                }
                if (samples + next.count() > maxBatch) {
                    carried = next;
                    break;
                }
                batch.add(next);
                samples += next.count();
            }
            run(predictor, batch, samples, packed, pieces);
            if (Thread.interrupted() && queue.isEmpty() && carried == null) return;
        }
    }

    /** One forward pass over the batch's samples, packed in queue order; each request gets its rows. */
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
        } catch (RuntimeException | Error e) {
            // The worker survives a failing batch: its requests are answered, the next batch runs.
            InferenceError error = new InferenceError(500, "model '" + model + "' failed on a batch of " + samples
                    + " samples: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            for (Pending p : batch) p.result().completeExceptionally(error);
        }
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
        synchronized (this) {
            closed = true;
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
        for (Pending p; (p = queue.poll()) != null; ) p.result().completeExceptionally(gone);
    }
}
