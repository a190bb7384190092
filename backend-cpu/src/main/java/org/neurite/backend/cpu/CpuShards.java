package org.neurite.backend.cpu;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.neurite.backend.BatchShards;

/**
 * {@link BatchShards} on the CPU backend: the two shards are the two parts of one region of the
 * backend's own pool (shard 0 on the calling thread, shard 1 on its first worker), each with its
 * own {@link CpuBackend.Ops} (kernel objects and scratch) on its own pool of {@code ceil(T/2)}
 * and {@code floor(T/2)} threads (at least one each) of the backend's T. With one thread there is
 * no worker: the shards take turns on the calling thread ({@link #runInLockstep}).
 * Why: a two-thread training step of the small ResNet splits each of its ~100 ops across both
 * cores and joins them after each; two shards that each run every op on their own samples meet
 * only at batch norm's 18 exchanges, and trained 1.08-1.26x faster (BENCHMARKS.md, "CPU backend
 * kernels", 2026-12-07).
 *
 * <p><b>Exchanges.</b> {@link #exchange} publishes a shard's values for its k-th exchange and
 * returns the other shard's k-th: each shard writes the buffer of parity {@code k & 1}, so a shard
 * that has gone on to exchange k+1 never overwrites what the other has yet to read of exchange k.
 * With two threads or more the waiting shard spins for a while ({@link #SPINS}) and then parks;
 * the time it waits is counted ({@link #waitNanos}).
 * With one, the shards take turns on the calling thread ({@link #runInLockstep}): shard 0's
 * exchange cannot wait, so it returns nothing and leaves the rest of its batch-norm call
 * ({@link Deferred}) to shard 1's exchange of the same rank, which runs it on shard 0's kernels
 * with its own values; until then any other op of shard 0 is refused
 * ({@link CpuBackend.Ops#awaitingExchange}). Every value is the same as with two threads, and
 * there is no thread switch. (Shards that took turns on two Java threads, switching at each
 * exchange, trained the small ResNet at 0.82x of an unsharded one-thread step: about 160 µs a
 * switch on the 2-vCPU VM. BENCHMARKS.md, "CPU backend kernels", 2026-12-07.)
 *
 * <p><b>Failures.</b> A shard that throws marks the run failed; the other throws at its next
 * exchange (or finishes), and {@link #run} rethrows the first exception. A shard that finishes
 * while the other waits at an exchange it never reached means the two ran different graphs: an
 * {@link IllegalStateException} says so rather than a hang.
 */
final class CpuShards implements BatchShards, AutoCloseable {
    /**
     * Spin iterations (about 1-4 ms) before a waiting shard parks, with two threads or more: the
     * other shard is usually a few microseconds to a few hundred behind, and a parked thread's
     * wake-up on a VM costs tens of microseconds or more.
     */
    private static final int SPINS = 200_000;
    /**
     * How long shard 1's worker watches for the next run before it parks (after ordinary regions:
     * 50 µs). A step's forward and backward runs come microseconds apart, but the next step's
     * forward only after the update on the calling thread (0.1-0.3 ms on the small ResNet): a
     * worker parked by then started its shard late, and shard 0 waited for it at its first
     * exchange, about 55 µs a run longer than at any other on the 2-vCPU VM, which the watch
     * took back (BENCHMARKS.md, 2026-12-07, "the shards' waits"; whole runs there do not resolve
     * the 0.1 ms a step). After the last run of a while (an epoch's end, a predictor's call) the
     * worker spins this long for nothing.
     */
    static final long LINGER_NANOS = 1_000_000;
    /** How long a parked shard sleeps before it looks again (unparks usually wake it first). */
    private static final long PARK_NANOS = 100_000;

    /** The rest of a batch-norm call of shard 0 in lockstep, run with shard 1's values of the same exchange. */
    interface Deferred {
        void finish(double[] theirs);
    }

    private final CpuBackend backend;
    /** The backend's pool, whose two-part region runs the shards (more than one thread). */
    private final CpuThreads all;
    /** One thread in all: the shards take turns on the calling thread ({@link #runInLockstep}). */
    private final boolean lockstep;
    private final CpuBackend.Ops[] ops = new CpuBackend.Ops[SHARDS];
    private final CpuThreads[] pools = new CpuThreads[SHARDS];
    private final CpuThreads.RangeTask region = (worker, begin, end) -> {
        for (int s = begin; s < end; s++) runShard(s);
    };

    // The run in progress.
    private volatile Steps body;
    private volatile int steps;
    private volatile boolean failed;
    private volatile boolean closed;
    private boolean running;                        // guarded by this
    private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    private final LongAdder[] waited = {new LongAdder(), new LongAdder()};   // nanoseconds each shard spent in awaitOther
    private final AtomicIntegerArray arrived = new AtomicIntegerArray(SHARDS);   // exchanges each shard has reached
    private final AtomicIntegerArray finished = new AtomicIntegerArray(SHARDS);  // 1 once its steps returned or one threw
    private final Thread[] runners = new Thread[SHARDS];     // the thread running each shard, this run
    /** [shard][parity]: what each shard published for its exchanges of that parity, grow-only. */
    private final double[][][] published = new double[SHARDS][2][0];
    /** In lockstep: shard 0's batch-norm call waiting for shard 1's exchange of the same rank, or null. */
    private Deferred deferred;

    CpuShards(CpuBackend backend, CpuThreads all) {
        this.backend = backend;
        this.all = all;
        int threads = all.size();
        this.lockstep = threads == 1;
        int first = Math.max(1, (threads + 1) / 2), rest = Math.max(1, threads / 2);
        pools[0] = new CpuThreads(first);
        pools[1] = new CpuThreads(rest);
        ops[0] = new CpuBackend.Ops(pools[0], backend.path(), this, 0);
        // In lockstep the shards' ops never overlap: shard 1 shares shard 0's kernels but batch norm's
        // (which holds a deferred call), and so finds the filters shard 0 transformed or packed from
        // the same weights a moment before (CpuWeightMemo) instead of preparing them again.
        ops[1] = lockstep ? new CpuBackend.Ops(ops[0], new CpuNormalization(pools[1], backend.path(), this, 1))
                : new CpuBackend.Ops(pools[1], backend.path(), this, 1);
    }

    @Override
    public void run(int steps, Steps shardSteps) {
        synchronized (this) {
            if (closed) throw new IllegalStateException("the backend is closed");
            if (running) throw new IllegalStateException("shards of a step do not nest, nor run two at a time");
            running = true;
        }
        try {
            firstFailure.set(null);
            failed = false;
            for (int s = 0; s < SHARDS; s++) {
                arrived.set(s, 0);
                finished.set(s, 0);
            }
            this.steps = steps;
            body = shardSteps;
            if (lockstep) {
                runInLockstep(steps, shardSteps);
            } else {
                runners[0] = Thread.currentThread();
                runners[1] = null;
                all.runThenLinger(SHARDS, SHARDS, region, LINGER_NANOS);    // shard 0 here, shard 1 on the pool's first worker
            }
            body = null;
            Throwable t = firstFailure.get();
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        } finally {
            body = null;
            synchronized (this) { running = false; }
        }
    }

    /**
     * One thread: shard 0's steps until one leaves a batch-norm call waiting (or its last step),
     * then shard 1's up to the same step, whose exchange finishes shard 0's call; and so on. Each
     * shard runs whole stretches between exchanges, so a layer's output is read while it is still
     * in the cache (LeNet-5, without batch norm, runs shard 0's pass and then shard 1's: stepping
     * the two shards node by node trained it at 0.80-0.91x of the unsharded step, against
     * 1.06x). Exceptions go straight out.
     */
    private void runInLockstep(int steps, Steps shardSteps) {
        try {
            int second = 0;                         // shard 1's next step
            for (int i = 0; i < steps; i++) {
                backend.bindShard(ops[0]);
                shardSteps.run(0, i);
                if (deferred == null && i < steps - 1) continue;
                backend.bindShard(ops[1]);
                for (; second <= i; second++) shardSteps.run(1, second);
                if (deferred != null) {
                    throw new IllegalStateException("shard 1 of the step made no batch-norm call by step " + i
                            + ", where shard 0 made one: the two shards ran different graphs");
                }
            }
        } finally {
            backend.bindShard(null);
            deferred = null;
            ops[0].awaitingExchange = false;
        }
    }

    /** Shard {@code s}'s steps of the run on its kernels; on the way out, its finish handed on. */
    private void runShard(int s) {
        runners[s] = Thread.currentThread();
        backend.bindShard(ops[s]);
        try {
            Steps b = body;
            for (int i = 0, n = steps; i < n && !failed; i++) b.run(s, i);
        } catch (Throwable t) {
            firstFailure.compareAndSet(null, t);
            failed = true;
        } finally {
            backend.bindShard(null);
            finished.set(s, 1);
            Thread other = runners[1 - s];
            if (other != null) LockSupport.unpark(other);
        }
    }

    /**
     * Publishes {@code values[0, length)} as shard {@code s}'s next exchange and returns the other
     * shard's values for the same exchange (a buffer of at least {@code length}, read-only, valid
     * until this shard's exchange after next). In lockstep shard 0's exchange returns null instead:
     * the caller returns at once, and {@code rest} runs with shard 1's values during shard 1's
     * exchange of the same rank, on shard 0's kernels.
     */
    double[] exchange(int s, double[] values, int length, Deferred rest) {
        int k = arrived.get(s), parity = k & 1, other = 1 - s;
        double[] mine = published[s][parity];
        if (mine.length < length) mine = published[s][parity] = new double[length];
        System.arraycopy(values, 0, mine, 0, length);
        arrived.set(s, k + 1);                      // publishes the copy
        if (lockstep) return exchangeInLockstep(s, k, parity, rest);
        Thread waiting = runners[other];
        if (waiting != null) LockSupport.unpark(waiting);
        if (arrived.get(other) <= k) awaitOther(s, k);
        return published[other][parity];
    }

    /** Waits until the other shard has published its exchange {@code k} (counted from 0), the time added to {@link #waitNanos}. */
    private void awaitOther(int s, int k) {
        int other = 1 - s, spins = 0;
        long start = System.nanoTime();
        try {
            while (arrived.get(other) <= k) {
                if (failed) throw new IllegalStateException("the other shard of this step failed");
                if (finished.get(other) == 1 && arrived.get(other) <= k) {
                    throw new IllegalStateException("shard " + other + " of the step finished without reaching batch norm exchange " + (k + 1)
                            + " of shard " + s + ": the two shards ran different graphs");
                }
                if (spins < SPINS) {
                    spins++;
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(this, PARK_NANOS);
                }
            }
        } finally {
            waited[s].add(System.nanoTime() - start);
        }
    }

    @Override
    public long waitNanos() {
        return waited[0].sum() + waited[1].sum();
    }

    @Override
    public long waitNanos(int shard) {
        if (shard != 0 && shard != 1) throw new IllegalArgumentException("shard must be 0 or 1, got " + shard);
        return waited[shard].sum();
    }

    /** {@link #exchange} with one thread: shard 0 defers the rest of its call; shard 1 finishes it, then its own. */
    private double[] exchangeInLockstep(int s, int k, int parity, Deferred rest) {
        if (s == 0) {
            deferred = rest;
            ops[0].awaitingExchange = true;
            return null;
        }
        if (arrived.get(0) <= k || deferred == null) {
            throw new IllegalStateException("shard 1 of the step reached batch norm exchange " + (k + 1)
                    + " in a step where shard 0 had none: the two shards ran different graphs");
        }
        Deferred first = deferred;
        deferred = null;
        ops[0].awaitingExchange = false;
        backend.bindShard(ops[0]);
        try {
            first.finish(published[1][parity]);
        } finally {
            backend.bindShard(ops[1]);
        }
        return published[0][parity];
    }

    @Override
    public void close() {
        closed = true;
        for (CpuThreads pool : pools) pool.close();
    }
}
