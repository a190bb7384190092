package org.neurite.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;
import org.neurite.train.MemoryBound;

/**
 * Reads the samples of streamed datasets ({@link Dataset#isStreamed()}) from disk while training
 * runs, holding at most {@link #bound()} bytes of them. A training step asks for the rows at
 * positions {@code [from, from + count)} of an epoch's order ({@link EpochOrder}); the loader
 * reads ahead in <em>chunks</em> of consecutive positions of that order, each chunk read by one
 * thread of a small pool, so the next batches are decoded while the current one trains.
 *
 * <p>Memory: a chunk holds {@link #chunkSamples()} samples (their floats and their indices) in a
 * buffer; at most {@link #maxChunks()} buffers exist — the chunk being served, the others loading
 * or ready — and they are recycled, so once the window is full nothing more is allocated per
 * chunk. Both numbers follow from the bound and the sample size ({@link #chunkSamples()}), and
 * {@link #heldBytes()} (with its peak, {@link #peakHeldBytes()}) counts the buffers. Outside the
 * count: one encoded sample per reading thread (an IDX row, a PNG file's decoder state), the
 * labels and paths the dataset keeps (4 bytes a sample, one path a picture), and the trainer's
 * epoch order.
 *
 * <p>Correctness does not depend on the caller following the read-ahead: every row served is
 * checked against the order it is asked for (a chunk keeps the indices it read), and anything
 * else — a new epoch written into the same order array, the test split between two epochs, a run
 * resumed inside an epoch — discards the window and starts reading at the asked position. The
 * rows are therefore always those {@link Dataset#copyBatch} of the in-memory dataset would give.
 * One loader can serve several datasets (a source's training and test splits), one at a time, so
 * together they stay within one bound. Calls are serialised; the threads are daemons that end
 * when idle, so a loader needs no closing.
 */
public final class StreamingLoader {
    /** Most samples per chunk: beyond a few hundred, a larger chunk only delays the first batch of an epoch. */
    static final int MAX_CHUNK_SAMPLES = 256;
    private static final AtomicInteger LOADERS = new AtomicInteger();

    private final MemoryBound bound;
    private final int threads;
    private final ExecutorService pool;
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    // The window: chunks of `order` (read through `reader`) in position order, the first being served.
    private SampleReader reader;
    private int[] order;
    private int nextStart;
    private final ArrayDeque<Chunk> window = new ArrayDeque<>();
    private final ArrayDeque<Buffer> free = new ArrayDeque<>();
    private int sampleSize = -1;
    private int chunkSamples;
    private int maxChunks;

    /** A buffer for one chunk: its samples' floats, one row after another, and which samples they are. */
    private record Buffer(float[] rows, int[] indices) {}

    /** Positions {@code [start, start + count)} of the order, read (or being read) into {@code buffer}. */
    private record Chunk(int start, int count, Buffer buffer, CompletableFuture<Void> read) {
        int end() { return start + count; }
    }

    /** A loader with {@link #defaultThreads()} reading threads. */
    public StreamingLoader(MemoryBound bound) {
        this(bound, defaultThreads());
    }

    /**
     * @param bound the most bytes of samples held at once
     * @param threads reading threads, at least 1
     */
    public StreamingLoader(MemoryBound bound, int threads) {
        if (threads < 1) throw new IllegalArgumentException("a streaming loader needs at least 1 thread, got " + threads);
        this.bound = bound;
        this.threads = threads;
        int id = LOADERS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        ThreadFactory daemons = task -> {
            Thread t = new Thread(task, "neurite-loader-" + id + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), daemons);
        executor.allowCoreThreadTimeOut(true);
        this.pool = executor;
    }

    /**
     * Reading threads when none are asked for: up to 4, never more than the processors, which the
     * training step needs as well. Decoding pictures is the only part that needs several.
     */
    public static int defaultThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }

    public MemoryBound bound() { return bound; }

    public int threads() { return threads; }

    /** Bytes of sample buffers held now (they stay allocated between epochs, to be reused). */
    public long heldBytes() { return held.get(); }

    /** The most bytes of sample buffers held at any moment so far; never above {@link #bound()}. */
    public long peakHeldBytes() { return peak.get(); }

    /**
     * Refuses a sample shape of which two samples do not fit in the bound (one served while the next
     * loads), with a message giving the least bound that works.
     */
    public void checkFits(Shape sample) {
        long least = 2 * bytesPerSample(sample.size());
        if (bound.bytes() < least) {
            throw new IllegalArgumentException("memory = " + bound + " holds fewer than two samples " + sample + " ("
                    + bytesPerSample(sample.size()) + " bytes each); give at least memory=\"" + kibibytes(least) + "k\"");
        }
    }

    /** Samples per chunk for samples of {@code sampleSize} floats: the bound split into 2 × threads + 2 chunks, at most {@value #MAX_CHUNK_SAMPLES}. */
    int chunkSamples(int sampleSize) {
        long perSample = bytesPerSample(sampleSize);
        return (int) Math.max(1, Math.min(MAX_CHUNK_SAMPLES, bound.bytes() / (perSample * aheadChunks())));
    }

    /** How many chunk buffers may exist for samples of {@code sampleSize} floats: 2 × threads + 2, or fewer when the bound says so. */
    int maxChunks(int sampleSize) {
        long chunkBytes = bytesPerSample(sampleSize) * chunkSamples(sampleSize);
        return (int) Math.min(aheadChunks(), bound.bytes() / chunkBytes);
    }

    /** The chunk being served, one loading per thread and as many ready: the pool never idles while training consumes. */
    private int aheadChunks() {
        return 2 * threads + 2;
    }

    /** {@code bytes} rounded up to whole KiB. */
    private static long kibibytes(long bytes) {
        return (bytes + 1023) / 1024;
    }

    /** A sample's floats and its index in a chunk buffer. */
    private static long bytesPerSample(int sampleSize) {
        return 4L * sampleSize + 4;
    }

    /**
     * Writes the samples at positions {@code order[from .. from + count)} of {@code reader} into
     * {@code x}, one {@code sampleSize} row after another from {@code x[0]}, then tops up the
     * read-ahead from the position after them.
     *
     * @throws IllegalArgumentException when a sample's file is damaged (naming it)
     * @throws UncheckedIOException when reading fails otherwise
     */
    synchronized void copy(SampleReader reader, int[] order, int from, int count, float[] x) {
        if (count == 0) return;
        int size = reader.sampleSize();
        int pos = from;
        int end = from + count;
        while (pos < end) {
            Chunk chunk = chunkAt(reader, order, pos);
            awaitRead(chunk);
            int n = Math.min(chunk.end(), end) - pos;
            int at = pos - chunk.start();
            if (!Arrays.equals(order, pos, pos + n, chunk.buffer().indices(), at, at + n)) {
                restart(reader, order, pos);   // the order changed since this chunk was read
                continue;
            }
            System.arraycopy(chunk.buffer().rows(), at * size, x, (pos - from) * size, n * size);
            pos += n;
            if (pos == chunk.end()) free.addLast(window.removeFirst().buffer());
        }
        fill();
    }

    /** The window's chunk holding position {@code pos} of {@code order}, restarting the window there if none does. */
    private Chunk chunkAt(SampleReader reader, int[] order, int pos) {
        if (reader != this.reader || order != this.order) restart(reader, order, pos);
        while (!window.isEmpty() && window.peekFirst().end() <= pos) release(window.removeFirst());   // positions skipped
        if (window.isEmpty() || window.peekFirst().start() > pos) restart(reader, order, pos);
        fill();
        return window.peekFirst();
    }

    /** Discards the window and reads on from {@code pos} of {@code order}; buffers are resized when the sample size changed. */
    private void restart(SampleReader reader, int[] order, int pos) {
        while (!window.isEmpty()) release(window.removeFirst());
        if (reader.sampleSize() != sampleSize) {
            held.addAndGet(-(long) free.size() * bufferBytes());
            free.clear();
            sampleSize = reader.sampleSize();
            chunkSamples = chunkSamples(sampleSize);
            maxChunks = maxChunks(sampleSize);
            if (maxChunks < 2) {
                throw new IllegalArgumentException("memory = " + bound + " holds fewer than two samples of " + sampleSize
                        + " floats; give at least memory=\"" + kibibytes(2 * bytesPerSample(sampleSize)) + "k\"");
            }
        }
        this.reader = reader;
        this.order = order;
        this.nextStart = pos;
    }

    /** Starts reading chunks after the window until it holds {@link #maxChunks} or reaches the order's end. */
    private void fill() {
        while (window.size() < maxChunks && nextStart < order.length) {
            Buffer buffer = free.isEmpty() ? allocate() : free.removeFirst();
            int count = Math.min(chunkSamples, order.length - nextStart);
            // The indices are copied now, on the caller's thread: the order may be rewritten (next epoch) while the chunk loads.
            System.arraycopy(order, nextStart, buffer.indices(), 0, count);
            SampleReader source = reader;
            CompletableFuture<Void> read = CompletableFuture.runAsync(() -> {
                try {
                    source.read(buffer.indices(), count, buffer.rows());
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            }, pool);
            window.addLast(new Chunk(nextStart, count, buffer, read));
            nextStart += count;
        }
    }

    private Buffer allocate() {
        Buffer buffer = new Buffer(new float[chunkSamples * sampleSize], new int[chunkSamples]);
        long now = held.addAndGet(bufferBytes());
        peak.accumulateAndGet(now, Math::max);
        return buffer;
    }

    private long bufferBytes() {
        return bytesPerSample(sampleSize) * chunkSamples;
    }

    /** Waits for a chunk's read; a failed read empties the window (so a retry reads afresh) and is rethrown. */
    private void awaitRead(Chunk chunk) {
        try {
            chunk.read().join();
        } catch (CompletionException e) {
            while (!window.isEmpty()) release(window.removeFirst());
            reader = null;
            Throwable cause = e.getCause();
            if (cause instanceof FileFormatException bad) throw new IllegalArgumentException(bad.getMessage(), bad);
            if (cause instanceof IOException io) throw new UncheckedIOException("reading training samples: " + io.getMessage(), io);
            if (cause instanceof RuntimeException r) throw r;
            if (cause instanceof Error err) throw err;
            throw e;
        }
    }

    /** Returns a chunk's buffer once no thread writes into it any more. */
    private void release(Chunk chunk) {
        try {
            chunk.read().join();
        } catch (CompletionException ignored) {
            // A discarded chunk's failure is nobody's: its positions are read again if they are asked for.
        }
        free.addLast(chunk.buffer());
    }
}
