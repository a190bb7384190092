package org.neurite.backend.cpu;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import org.neurite.backend.BatchShards;

/**
 * {@link BatchShards} on the CPU backend: the two shards are the two parts of one region of the
 * backend's own pool (shard 0 on the calling thread, shard 1 on its first worker), each with its
 * own {@link CpuBackend.Ops} (kernel objects and scratch) on its own pool of {@code ceil(T/2)}
 * and {@code floor(T/2)} threads (at least one each) of the backend's T. With one thread there is
 * no worker: shard 1 runs on a thread of its own, taking turns with shard 0.
 * Why: a two-thread training step of the small ResNet splits each of its ~100 ops across both
 * cores and joins them after each; two shards that each run every op on their own samples meet
 * only at batch norm's 18 exchanges, and trained 1.08-1.26x faster (BENCHMARKS.md, "CPU backend
 * kernels", 2026-12-07).
 *
 * <p><b>Exchanges.</b> {@link #exchange} publishes a shard's values for its k-th exchange and
 * returns the other shard's k-th: each shard writes the buffer of parity {@code k & 1}, so a shard
 * that has gone on to exchange k+1 never overwrites what the other has yet to read of exchange k.
 * With two threads or more the waiting shard spins for a while ({@link #SPINS}) and then parks;
 * with one the shards take turns ({@link #turns}): the shard that reaches an exchange first hands
 * the turn to the other and waits until it is handed back, so one thread at a time runs and the
 * values are the same as with two. Shard 1's thread starts only at shard 0's first exchange: a run
 * without exchanges runs shard 1 on the calling thread after shard 0: LeNet-5's one-thread step went
 * from 0.70x of the unsharded one to 1.06x. Each switch of turns costs a thread's wake-up (about
 * 135 µs on the 2-vCPU VM): the small ResNet's one-thread step, 18 exchanges, runs at 0.82x of the
 * unsharded one (BENCHMARKS.md, "CPU backend kernels", 2026-12-07).
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
    /** How long a parked shard sleeps before it looks again (unparks usually wake it first). */
    private static final long PARK_NANOS = 100_000;

    private final CpuBackend backend;
    /** The backend's pool, whose two-part region runs the shards (more than one thread). */
    private final CpuThreads all;
    /** One thread in all: the shards take turns, switching at exchanges. */
    private final boolean turns;
    private final CpuBackend.Ops[] ops = new CpuBackend.Ops[SHARDS];
    private final CpuThreads[] pools = new CpuThreads[SHARDS];
    /** Shard 1's thread with one thread in all (taking turns); null otherwise. */
    private final Thread second;
    private final CpuThreads.RangeTask region = (worker, begin, end) -> {
        for (int s = begin; s < end; s++) runShard(s);
    };

    // The run in progress.
    private volatile IntConsumer body;
    private volatile int runs;                      // runs started: shard 1's thread starts one per increment
    private volatile int turn;                      // with turns: the shard that may run
    private volatile boolean secondStarted;         // with turns: shard 1's thread has this run
    private volatile boolean failed;
    private volatile boolean closed;
    private boolean running;                        // guarded by this
    private final AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    private final AtomicIntegerArray arrived = new AtomicIntegerArray(SHARDS);   // exchanges each shard has reached
    private final AtomicIntegerArray finished = new AtomicIntegerArray(SHARDS);  // 1 once its body returned or threw
    private final Thread[] runners = new Thread[SHARDS];     // the thread running each shard, this run
    /** [shard][parity]: what each shard published for its exchanges of that parity, grow-only. */
    private final double[][][] published = new double[SHARDS][2][0];

    CpuShards(CpuBackend backend, CpuThreads all) {
        this.backend = backend;
        this.all = all;
        int threads = all.size();
        this.turns = threads == 1;
        int first = Math.max(1, (threads + 1) / 2), rest = Math.max(1, threads / 2);
        pools[0] = new CpuThreads(first);
        pools[1] = new CpuThreads(rest);
        for (int s = 0; s < SHARDS; s++) ops[s] = new CpuBackend.Ops(pools[s], backend.path(), this, s);
        if (turns) {
            second = new Thread(this::secondShardLoop, "neurite-cpu-shard-1");
            second.setDaemon(true);
            second.start();
        } else {
            second = null;
        }
    }

    @Override
    public void run(IntConsumer shard) {
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
            turn = 0;
            runners[0] = Thread.currentThread();
            runners[1] = second;
            body = shard;
            if (turns) {
                // Shard 0 first, here; shard 1's thread starts only when shard 0 reaches an exchange
                // (exchange). A run with none (a graph without batch norm) runs shard 1 here too,
                // after it: no thread switch at all.
                secondStarted = false;
                runShard(0);
                if (secondStarted) {
                    while (finished.get(1) == 0) LockSupport.parkNanos(this, PARK_NANOS);
                } else if (!failed) {
                    runShard(1);
                }
            } else {
                all.run(SHARDS, SHARDS, region);    // shard 0 here, shard 1 on the pool's first worker
            }
            body = null;
            Throwable t = firstFailure.get();
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        } finally {
            synchronized (this) { running = false; }
        }
    }

    /** Shard {@code s} of the run's body on its kernels; on the way out, its finish (and, taking turns, the turn) handed on. */
    private void runShard(int s) {
        runners[s] = Thread.currentThread();
        backend.bindShard(ops[s]);
        try {
            body.accept(s);
        } catch (Throwable t) {
            firstFailure.compareAndSet(null, t);
            failed = true;
        } finally {
            backend.bindShard(null);
            finished.set(s, 1);
            if (turns) turn = 1 - s;
            LockSupport.unpark(runners[1 - s]);
        }
    }

    /** Shard 1's thread with one thread in all: one run per increment of {@link #runs}, after shard 0 hands it the turn. */
    private void secondShardLoop() {
        int seen = 0;
        while (!closed) {
            if (runs == seen) {
                LockSupport.park(this);
                continue;
            }
            seen = runs;
            while (turn != 1 && !closed) LockSupport.parkNanos(this, PARK_NANOS);
            if (closed) return;
            runShard(1);
        }
    }

    /**
     * Publishes {@code values[0, length)} as shard {@code s}'s next exchange and returns the other
     * shard's values for the same exchange (a buffer of at least {@code length}, read-only, valid
     * until this shard's exchange after next).
     */
    double[] exchange(int s, double[] values, int length) {
        int k = arrived.get(s), parity = k & 1, other = 1 - s;
        double[] mine = published[s][parity];
        if (mine.length < length) mine = published[s][parity] = new double[length];
        System.arraycopy(values, 0, mine, 0, length);
        arrived.set(s, k + 1);                      // publishes the copy
        if (turns && arrived.get(other) <= k) {
            turn = other;
            if (s == 0 && !secondStarted) {         // shard 0's first exchange: shard 1 starts, on its thread
                secondStarted = true;
                runs = runs + 1;
                LockSupport.unpark(second);
            }
        }
        LockSupport.unpark(runners[other]);
        int spins = 0;
        while (arrived.get(other) <= k || (turns && turn != s)) {
            if (failed) throw new IllegalStateException("the other shard of this step failed");
            if (finished.get(other) == 1 && arrived.get(other) <= k) {
                throw new IllegalStateException("shard " + other + " of the step finished without reaching batch norm exchange " + (k + 1)
                        + " of shard " + s + ": the two shards ran different graphs");
            }
            if (!turns && spins < SPINS) {
                spins++;
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(this, PARK_NANOS);
            }
        }
        return published[other][parity];
    }

    @Override
    public void close() {
        closed = true;
        if (second != null) LockSupport.unpark(second);
        for (CpuThreads pool : pools) pool.close();
    }
}
