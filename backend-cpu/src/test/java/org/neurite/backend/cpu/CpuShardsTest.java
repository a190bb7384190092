package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.neurite.backend.BatchShards;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * {@link CpuShards}: batch norm's training forward and backward run as two shards of a batch give
 * the whole batch's statistics and gradients (to float rounding: the sums are added in another
 * order), the same bits for 1, 2, 3 and 4 threads (one thread runs them in lockstep), and a shard that
 * fails or calls batch norm fewer times than the other ends the run with the failure, not a hang.
 */
class CpuShardsTest {
    private static final float EPS = 1e-5f, MOMENTUM = 0.1f;
    /** Steps of a shard's pass ({@link Batch#step}). */
    private static final int STEPS = 3;

    @ParameterizedTest(name = "outer={0}+{1} channels={2} inner={3} relu={4}")
    @CsvSource({"3, 2, 4, 16, false", "32, 32, 16, 196, true", "1, 1, 3, 7, true", "2, 3, 2, 1100, false", "5, 4, 8, 49, true"})
    void shardedBatchNormIsTheWholeBatchs(int first, int second, int channels, int inner, boolean relu) {
        int outer = first + second;
        float[][] whole = wholeBatch(outer, channels, inner, relu);
        float[][] sharded = sharded(first, second, channels, inner, relu, 2);
        String[] names = {"y", "saveMean", "saveInvStd", "runningMean", "runningVar", "dx", "dgamma", "dbeta"};
        for (int i = 0; i < names.length; i++) assertClose(whole[i], sharded[i], names[i]);
        for (int threads : new int[] {1, 3, 4}) {
            float[][] other = sharded(first, second, channels, inner, relu, threads);
            for (int i = 0; i < names.length; i++) assertArrayEquals(sharded[i], other[i], names[i] + ", " + threads + " threads against 2");
        }
    }

    @Test
    void theSecondShardLeavesTheNormsParameterGradientsToTheFirst() {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null))) {
            Batch[] shards = {new Batch(cpu, 3, 4, 16, 1), new Batch(cpu, 2, 4, 16, 2)};
            shards(cpu).run(STEPS, (s, i) -> shards[s].step(cpu, false, i));
            float[] first = cpu.download(shards[0].dgamma);
            assertTrue(first[0] != 0f || first[1] != 0f, "shard 0's dgamma " + Arrays.toString(first));
            assertArrayEquals(new float[4], cpu.download(shards[1].dgamma), "shard 1's dgamma");
            assertArrayEquals(new float[4], cpu.download(shards[1].dbeta), "shard 1's dbeta");
        }
    }

    @Test
    void aFailingShardEndsTheRunWithItsException() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int threads = 1; threads <= 2; threads++) {
                try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null))) {
                    BatchShards shards = shards(cpu);
                    Batch[] batches = {new Batch(cpu, 2, 3, 16, 1), new Batch(cpu, 2, 3, 16, 2)};
                    for (int failing = 0; failing < 2; failing++) {
                        int f = failing;
                        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> shards.run(STEPS, (s, i) -> {
                            if (s == f) throw new IllegalArgumentException("shard " + s + " refused its label");
                            batches[s].step(cpu, false, i);
                        }));
                        assertEquals("shard " + f + " refused its label", e.getMessage());
                    }
                    // The next run goes through.
                    shards.run(STEPS, (s, i) -> batches[s].step(cpu, false, i));
                }
            }
        });
    }

    @Test
    void shardsThatCallBatchNormUnequallyAreRefusedNotHung() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (int threads = 1; threads <= 2; threads++) {
                try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null))) {
                    Batch[] batches = {new Batch(cpu, 2, 3, 16, 1), new Batch(cpu, 2, 3, 16, 2)};
                    IllegalStateException e = assertThrows(IllegalStateException.class,
                            () -> shards(cpu).run(STEPS, (s, i) -> { if (s == 0) batches[s].step(cpu, false, i); }));
                    assertTrue(e.getMessage().contains("different graphs"), e.getMessage());
                }
            }
        });
    }

    /**
     * With one thread the shards run in lockstep and shard 0's batch-norm call finishes in shard
     * 1's step of the same index: a step that goes on after the call, or shards that call batch
     * norm in different steps, are refused with a message (two threads do not notice the first).
     */
    @Test
    void lockstepRefusesStepsThatReadTheirBatchNormsOutput() {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(1, null))) {
            BatchShards shards = shards(cpu);
            Batch[] batches = {new Batch(cpu, 2, 3, 16, 1), new Batch(cpu, 2, 3, 16, 2)};
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> shards.run(1, (s, i) -> {
                batches[s].step(cpu, false, 1);
                cpu.unary(UnaryOp.RELU, batches[s].y, batches[s].y);
            }));
            assertTrue(e.getMessage().contains("followed its batch-norm call in the same step"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> shards.run(STEPS, (s, i) -> {
                if (s == i) batches[s].step(cpu, false, 1);   // batch norm forward: shard 0's in step 0, shard 1's in step 1
            }));
            assertTrue(e.getMessage().contains("different graphs"), e.getMessage());
            shards.run(STEPS, (s, i) -> batches[s].step(cpu, false, i));    // the backend is still usable
        }
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null))) {
            Batch[] batches = {new Batch(cpu, 2, 3, 16, 1), new Batch(cpu, 2, 3, 16, 2)};
            shards(cpu).run(1, (s, i) -> {
                batches[s].step(cpu, false, 1);
                cpu.unary(UnaryOp.RELU, batches[s].y, batches[s].y);
            });
        }
    }

    /**
     * A shard held up before its batch-norm call keeps the other waiting at the exchange, and the
     * wait is counted (at least most of the hold-up); shards that take turns on one thread never wait.
     */
    @Test
    void theWaitAtAnExchangeIsCounted() {
        long holdUp = 40_000_000L;
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null))) {
            BatchShards shards = shards(cpu);
            Batch[] batches = {new Batch(cpu, 2, 3, 16, 1), new Batch(cpu, 2, 3, 16, 2)};
            long before = shards.waitNanos(), before0 = shards.waitNanos(0), before1 = shards.waitNanos(1);
            shards.run(STEPS, (s, i) -> {
                if (s == 1 && i == 1) {
                    for (long until = System.nanoTime() + holdUp; System.nanoTime() < until; ) LockSupport.parkNanos(until - System.nanoTime());
                }
                batches[s].step(cpu, false, i);
            });
            long waited = shards.waitNanos() - before;
            long waited0 = shards.waitNanos(0) - before0, waited1 = shards.waitNanos(1) - before1;
            // Shard 0 reaches the exchange microseconds after the run starts, shard 1 no sooner than the hold-up.
            assertTrue(waited >= holdUp / 2, "waited " + waited + " ns for a shard held up " + holdUp + " ns");
            assertEquals(waited, waited0 + waited1, "both shards' waits, added");
            assertTrue(waited0 >= holdUp / 2 && waited1 < holdUp / 2,
                    "shard 0 waited " + waited0 + " ns and the held-up shard 1 " + waited1 + " ns");
            assertThrows(IllegalArgumentException.class, () -> shards.waitNanos(2));
        }
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(1, null))) {
            BatchShards shards = shards(cpu);
            Batch[] batches = {new Batch(cpu, 2, 3, 16, 1), new Batch(cpu, 2, 3, 16, 2)};
            shards.run(STEPS, (s, i) -> batches[s].step(cpu, false, i));
            assertEquals(0L, shards.waitNanos(), "shards in lockstep");
            assertEquals(0L, shards.waitNanos(0) + shards.waitNanos(1), "shards in lockstep");
        }
    }

    @Test
    void runsDoNotNest() {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null))) {
            BatchShards shards = shards(cpu);
            assertThrows(IllegalStateException.class, () -> shards.run(1, (s, i) -> { if (s == 0) shards.run(1, (t, j) -> {}); }));
        }
    }

    @Test
    void opsOutsideARunUseTheWholeBackend() {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null))) {
            shards(cpu);                       // the shards made, no run in progress
            Batch b = new Batch(cpu, 4, 3, 16, 0);
            b.forwardAndBackward(cpu, true);   // no exchange outside a run: the whole batch's statistics
            float[][] whole = wholeBatch(4, 3, 16, true);
            assertArrayEquals(whole[0], cpu.download(b.y));
        }
    }

    private static BatchShards shards(CpuBackend cpu) {
        return cpu.extension(BatchShards.class).orElseThrow();
    }

    /** y, saved and running statistics, dx, dgamma, dbeta of the whole batch, unsharded. */
    private static float[][] wholeBatch(int outer, int channels, int inner, boolean relu) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(2, null))) {
            Batch b = new Batch(cpu, outer, channels, inner, 0, 0, outer);
            b.forwardAndBackward(cpu, relu);
            return b.results(cpu);
        }
    }

    /** The same, as two shards of {@code first} and {@code second} samples; the shards' rows concatenated, the statistics shard 0's. */
    private static float[][] sharded(int first, int second, int channels, int inner, boolean relu, int threads) {
        try (CpuBackend cpu = new CpuBackend(new BackendOptions(threads, null))) {
            int outer = first + second;
            Batch[] shards = {new Batch(cpu, first, channels, inner, 0, 0, outer), new Batch(cpu, second, channels, inner, 0, first, outer)};
            // Shard 1 reads the same running statistics (shard 0 alone updates them).
            shards[1].runningMean = shards[0].runningMean;
            shards[1].runningVar = shards[0].runningVar;
            shards(cpu).run(STEPS, (s, i) -> shards[s].step(cpu, relu, i));
            float[][] a = shards[0].results(cpu), b = shards[1].results(cpu);
            assertArrayEquals(a[1], b[1], "both shards' saved mean");
            assertArrayEquals(a[2], b[2], "both shards' saved 1/std");
            float[][] out = a.clone();
            out[0] = concat(a[0], b[0]);
            out[5] = concat(a[5], b[5]);
            return out;
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            float tolerance = 2e-5f * Math.max(1f, Math.abs(expected[i]));
            assertEquals(expected[i], actual[i], tolerance, what + "[" + i + "]");
        }
    }

    /** One shard's tensors: rows [from, from + outer) of a batch of {@code total} drawn from one seed. */
    private static final class Batch {
        final int outer, channels, inner;
        final Tensor source, x, dy, gamma, beta, y, saveMean, saveInvStd, dx, dgamma, dbeta;
        Tensor runningMean, runningVar;

        Batch(CpuBackend cpu, int outer, int channels, int inner, long seed) {
            this(cpu, outer, channels, inner, seed, 0, outer);
        }

        Batch(CpuBackend cpu, int outer, int channels, int inner, long seed, int from, int total) {
            this.outer = outer;
            this.channels = channels;
            this.inner = inner;
            Shape shape = Shape.of(outer, channels, inner), perChannel = Shape.of(channels);
            int rows = channels * inner;
            float[] allX = values(new SplittableRandom(seed + 11), total * rows, 3f, 2f), allDy = values(new SplittableRandom(seed + 12), total * rows, 0f, 1f);
            source = upload(cpu, shape, Arrays.copyOfRange(allX, from * rows, (from + outer) * rows));
            x = cpu.allocate(shape);
            dy = upload(cpu, shape, Arrays.copyOfRange(allDy, from * rows, (from + outer) * rows));
            gamma = upload(cpu, perChannel, values(new SplittableRandom(seed + 13), channels, 1f, 0.5f));
            beta = upload(cpu, perChannel, values(new SplittableRandom(seed + 14), channels, 0f, 0.5f));
            runningMean = upload(cpu, perChannel, values(new SplittableRandom(seed + 15), channels, 0f, 0.5f));
            runningVar = upload(cpu, perChannel, values(new SplittableRandom(seed + 16), channels, 1f, 0.2f));
            y = cpu.allocate(shape);
            dx = cpu.allocate(shape);
            saveMean = cpu.allocate(perChannel);
            saveInvStd = cpu.allocate(perChannel);
            dgamma = cpu.allocate(perChannel);
            dbeta = cpu.allocate(perChannel);
        }

        void forwardAndBackward(CpuBackend cpu, boolean relu) {
            for (int i = 0; i < STEPS; i++) step(cpu, relu, i);
        }

        /**
         * Step 0 of a shard's pass: x copied from its source (a step without batch norm); step 1:
         * batch norm forward; step 2: its backward (which reads the forward's outputs).
         */
        void step(CpuBackend cpu, boolean relu, int step) {
            if (step == 0) {
                cpu.copy(Slice.of(source), Slice.of(x));
                return;
            }
            step--;
            if (step == 0 && relu) {
                cpu.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, EPS, MOMENTUM,
                        true, UnaryOp.RELU);
            } else if (step == 0) {
                cpu.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, EPS, MOMENTUM, true);
            } else if (relu) {
                cpu.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, UnaryOp.RELU, y, dx, dgamma, dbeta, outer, channels, inner);
            } else {
                cpu.batchNormBackward(x, dy, gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
            }
        }

        float[][] results(CpuBackend cpu) {
            return new float[][] {cpu.download(y), cpu.download(saveMean), cpu.download(saveInvStd), cpu.download(runningMean),
                    cpu.download(runningVar), cpu.download(dx), cpu.download(dgamma), cpu.download(dbeta)};
        }

        private static float[] values(SplittableRandom rnd, int n, float centre, float spread) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = centre + spread * (float) (2 * rnd.nextDouble() - 1);
            return v;
        }

        private static Tensor upload(CpuBackend cpu, Shape shape, float[] values) {
            Tensor t = cpu.allocate(shape);
            cpu.upload(values, 0, Slice.of(t));
            return t;
        }
    }
}
