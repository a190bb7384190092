package org.neurite.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The fixed worker pool of one {@link CpuBackend}: {@code size - 1} daemon threads plus the
 * calling thread, which is always worker 0. A region runs {@code [0, tasks)} on up to
 * {@code size} workers, in one of two ways:
 * <ul>
 *   <li>{@link #run}: split into contiguous, near-equal parts; part {@code w} runs on worker
 *       {@code w}. For cheap, uniform work (element-wise maps), where one claim per task would
 *       cost more than the task.</li>
 *   <li>{@link #runClaimed}: every worker claims the next unclaimed task from a shared counter
 *       until none is left. For coarse tasks (GEMM blocks, convolution samples): a worker that
 *       the OS deschedules, or that drew slower tasks, no longer holds the others up at the end
 *       of the region, which matters on machines shared with other processes. Which worker runs
 *       a task then varies from call to call, so it may only pick per-worker scratch, never the
 *       result: every op that uses this mode computes each output element inside one task, in
 *       an order fixed by the task alone.</li>
 * </ul>
 * Either way, per-worker scratch (GEMM panels, im2col columns) is indexed by the worker number
 * without locking.
 *
 * <p>One parallel region runs at a time (callers hold the pool's monitor); a region started from
 * inside a region of the same pool is a programming error and is refused, because its parts would
 * share scratch. (A part may start regions on another pool: {@link CpuShards} runs each shard of
 * a training step as a part of a two-part region, its ops on a pool of its own.)
 * Dispatch allocates nothing: workers are woken with {@link LockSupport#unpark} and the caller
 * waits on a counter. A worker that finished its part spins briefly before it parks, so that a
 * region following closely on the last one does not pay for waking it (longer after a region run
 * by {@link #runThenLinger}, whose caller expects its next one later, and never shorter than the
 * longest watch still running).
 *
 * <p>A worker takes its part by clearing it from its slot (a compare-and-set); the caller, done
 * with its own part, clears the slots that are still full and runs those parts itself, as the
 * worker they were posted to (same worker number, so the same scratch and the same results). So
 * a worker that is slow to wake (parked, or its core taken by another process) delays a region by
 * at most its own part, never by its wake-up as well: with a third busy thread on a 2-core
 * machine, regions of two 82 µs parts took 268 µs (median) while the caller waited for the
 * worker, more than both parts run one after the other.
 */
final class CpuThreads implements AutoCloseable {

    /** A slice of a parallel loop: run tasks {@code [begin, end)} on worker {@code worker}. */
    @FunctionalInterface
    interface RangeTask {
        void run(int worker, int begin, int end);
    }

    /**
     * How long a worker that finished its part spins for the next one before it parks: long
     * enough to bridge the gap between back-to-back regions, short enough that an idle backend
     * gives its cores back almost at once.
     */
    private static final long IDLE_SPIN_NANOS = 50_000;

    private final int size;
    private final Worker[] workers; // workers[w] runs part w; workers[0] is unused (the caller runs part 0)
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicInteger nextClaim = new AtomicInteger(); // the next unclaimed task of a claimed region
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile Thread waiter;
    private volatile boolean closed;
    private boolean inRegion; // guarded by this: a region is running

    CpuThreads(int size) {
        this(size, true);
    }

    /**
     * With {@code startWorkers} false the worker threads are never started: every part the caller
     * posts stays untaken and the caller runs it itself, which is how the tests reach that path
     * deterministically (a worker that does not wake).
     */
    CpuThreads(int size, boolean startWorkers) {
        if (size < 1) throw new IllegalArgumentException("thread count must be >= 1, got " + size);
        this.size = size;
        this.workers = new Worker[size];
        for (int w = 1; w < size; w++) {
            workers[w] = new Worker(w);
            if (startWorkers) workers[w].start();
        }
    }

    int size() { return size; }

    /**
     * Worker {@code worker}'s scratch array of {@code perWorker}, grown (reallocated, contents not
     * kept) to at least {@code size} floats: grow-only, so a steady sequence of calls allocates nothing.
     */
    static float[] scratch(float[][] perWorker, int worker, int size) {
        float[] a = perWorker[worker];
        if (a == null || a.length < size) perWorker[worker] = a = new float[size];
        return a;
    }

    /** {@link #run(int, int, RangeTask)} with as many parts as there are threads. */
    void run(int tasks, RangeTask body) {
        run(tasks, size, body);
    }

    /**
     * Runs {@code body} over {@code [0, tasks)} split into {@code min(size, tasks, maxParts)}
     * contiguous parts and returns when all parts are done; {@code maxParts == 1} runs it on the
     * calling thread (as worker 0). An exception in any part is rethrown here.
     */
    void run(int tasks, int maxParts, RangeTask body) {
        region(tasks, maxParts, body, false, IDLE_SPIN_NANOS);
    }

    /**
     * {@link #run(int, int, RangeTask)} after which the workers watch for the next region for
     * {@code idleSpinNanos} before they park, instead of {@link #IDLE_SPIN_NANOS}: for a caller
     * that knows its next region comes a little later than usual ({@link CpuShards}: the next
     * training step's shards, after the step's update on the calling thread).
     */
    void runThenLinger(int tasks, int maxParts, RangeTask body, long idleSpinNanos) {
        region(tasks, maxParts, body, false, idleSpinNanos);
    }

    /**
     * Runs {@code body} on {@code min(size, tasks, maxParts)} workers that each claim the next
     * unclaimed task, {@code body.run(worker, t, t + 1)}, until all are taken, and returns when
     * all are done. With one part there is nothing to share: the caller runs
     * {@code body.run(0, 0, tasks)}. An exception in any task is rethrown here (the other workers
     * still finish the tasks left).
     */
    void runClaimed(int tasks, int maxParts, RangeTask body) {
        region(tasks, maxParts, body, true, IDLE_SPIN_NANOS);
    }

    private void region(int tasks, int maxParts, RangeTask body, boolean claimed, long idleSpinNanos) {
        // Checked before taking the monitor: a worker blocking on it would wait for its own region forever.
        if (Thread.currentThread() instanceof Worker w && w.pool() == this)
            throw new IllegalStateException("nested parallel region on the CPU backend (started from a worker thread)");
        synchronized (this) {
            runExclusive(tasks, maxParts, body, claimed, idleSpinNanos);
        }
    }

    private void runExclusive(int tasks, int maxParts, RangeTask body, boolean claimed, long idleSpinNanos) {
        if (tasks <= 0) return;
        if (closed) throw new IllegalStateException("CPU backend is closed");
        if (inRegion) throw new IllegalStateException("nested parallel region on the CPU backend");
        int parts = Math.min(Math.min(size, tasks), Math.max(1, maxParts));
        inRegion = true;
        try {
            if (parts == 1) {
                body.run(0, 0, tasks);
                return;
            }
            waiter = Thread.currentThread();
            pending.set(parts - 1);
            nextClaim.set(0);
            for (int w = 1; w < parts; w++) {
                if (claimed) workers[w].post(body, true, 0, tasks, idleSpinNanos);
                else workers[w].post(body, false, partStart(tasks, parts, w), partStart(tasks, parts, w + 1), idleSpinNanos);
            }
            Throwable mine = null;
            try {
                if (claimed) runClaims(body, 0, tasks);
                else body.run(0, 0, partStart(tasks, parts, 1));
            } catch (Throwable t) {
                mine = t;
            }
            // Parts no worker has taken yet: run them here, each as its own worker (a claimed
            // region has no task left for them, so there is nothing to run).
            for (int w = 1; w < parts; w++) {
                if (!workers[w].revoke(body)) continue;
                try {
                    if (!claimed && mine == null) body.run(w, partStart(tasks, parts, w), partStart(tasks, parts, w + 1));
                } catch (Throwable t) {
                    mine = t;
                }
                pending.decrementAndGet();
            }
            awaitWorkers();
            Throwable theirs = failure.getAndSet(null);
            Throwable first = mine != null ? mine : theirs;
            if (first instanceof RuntimeException re) throw re;
            if (first instanceof Error e) throw e;
            if (first != null) throw new IllegalStateException(first);
        } finally {
            inRegion = false;
        }
    }

    /** Claims and runs tasks on {@code worker} until the counter passes {@code tasks}. */
    private void runClaims(RangeTask body, int worker, int tasks) {
        for (int t; (t = nextClaim.getAndIncrement()) < tasks; ) body.run(worker, t, t + 1);
    }

    /** Start of part {@code w} when {@code tasks} are split into {@code parts} near-equal parts. */
    private static int partStart(int tasks, int parts, int w) {
        return (int) ((long) tasks * w / parts);
    }

    private void awaitWorkers() {
        // Spin briefly (parts usually finish together), then park; unpark from the last worker ends it.
        for (int spin = 0; spin < 2000 && pending.get() != 0; spin++) Thread.onSpinWait();
        while (pending.get() != 0) LockSupport.park(this);
    }

    @Override
    public void close() {
        closed = true;
        for (int w = 1; w < size; w++) LockSupport.unpark(workers[w]);
    }

    /** A daemon thread that runs the parts posted to it, one at a time. */
    private final class Worker extends Thread {
        private final int index;
        // The posted part until the worker takes it (or the caller revokes it); null otherwise.
        private final AtomicReference<RangeTask> task = new AtomicReference<>();
        private boolean claimed; // published by the volatile write of task, like begin, end and idleSpin
        private int begin, end;
        private long idleSpin; // how long to watch for the next part after this one

        Worker(int index) {
            super("neurite-cpu-" + index);
            this.index = index;
            setDaemon(true);
        }

        void post(RangeTask body, boolean claimed, int from, int to, long idleSpinNanos) {
            this.claimed = claimed;
            idleSpin = idleSpinNanos;
            begin = from;
            end = to;
            task.set(body);
            LockSupport.unpark(this);
        }

        /** The pool this worker belongs to (a worker may run a shard whose ops use another pool: {@link CpuShards}). */
        CpuThreads pool() { return CpuThreads.this; }

        /** Takes back {@code body} if this worker has not taken it yet: then it never runs it. */
        boolean revoke(RangeTask body) {
            return task.compareAndSet(body, null);
        }

        @Override
        public void run() {
            long spinUntil = 0; // after a part, watch for the next one this long before parking
            while (!closed) {
                RangeTask t = task.get();
                if (t == null) {
                    // Regions often follow each other closely (a GEMM's packing phase, then its
                    // multiply phase; the next op of a step), and waking a parked thread costs tens
                    // of microseconds, several percent of a 512^3 product at 2 threads.
                    if (System.nanoTime() < spinUntil) Thread.onSpinWait();
                    else LockSupport.park(this);
                    continue;
                }
                if (!task.compareAndSet(t, null)) continue; // the caller revoked it and runs it
                long linger = idleSpin;
                try {
                    if (claimed) runClaims(t, index, end);
                    else t.run(index, begin, end);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
                spinUntil = Math.max(spinUntil, System.nanoTime() + linger);   // a short region does not cut a longer watch short
                if (pending.decrementAndGet() == 0) LockSupport.unpark(waiter);
            }
        }
    }
}
