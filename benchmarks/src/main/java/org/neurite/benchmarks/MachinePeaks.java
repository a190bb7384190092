package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;

import java.util.Arrays;
import java.util.Locale;

/**
 * What the machine gives one thread and two right now, for reading a benchmark run on a shared
 * VM: independent scalar fma chains (compute; two threads on two cores give twice one, on one
 * core's two hardware threads or a shared core less) and a streaming pass over arrays far larger
 * than the caches, {@code d[i] = s[i] * c} (memory bandwidth, read plus write). Medians of
 * {@code --rounds} rounds of about 0.3 s each.
 *
 * <pre>java -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.MachinePeaks --rounds 7</pre>
 *
 * <p>Last, the time the machine takes from two busy threads: each watches the clock for
 * {@code --watch-seconds} (3) and counts the gaps between two readings longer than 50 µs, when
 * its core ran something else (another process, a kernel thread, a virtual machine's host). A
 * training step's two shards ({@code BatchShards}) meet at every batch norm, so a gap in either
 * stalls both: they lose about the sum of the two threads' shares (BENCHMARKS.md, 2026-12-07,
 * "the shards' waits").
 *
 * <p>Batch norm's passes, the residual sums and the relu's backward over the small ResNet's
 * activations stream from memory; where two threads stream little faster than one, only fewer
 * passes make them faster.
 */
public final class MachinePeaks {
    private MachinePeaks() {}

    private static volatile double sink;

    public static void main(String[] args) throws Exception {
        int rounds = intOption(args, "--rounds", 7);
        int watchSeconds = intOption(args, "--watch-seconds", 3);
        int floats = 8 << 20; // 32 MiB an array, beyond the last-level caches
        float[][] src = {new float[floats], new float[floats]}, dst = {new float[floats], new float[floats]};
        fmaChains(200_000_000L); // compiled before the rounds
        stream(src[0], dst[0]);
        double[] fma1 = new double[rounds], fma2 = new double[rounds], bw1 = new double[rounds], bw2 = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            fma1[r] = fmaRate(1);
            fma2[r] = fmaRate(2);
            bw1[r] = streamRate(src, dst, 1);
            bw2[r] = streamRate(src, dst, 2);
        }
        System.out.printf(Locale.ROOT, "scalar fma chains: one thread %.2f GFLOP/s, two %.2f (%.2fx)%n", median(fma1), median(fma2),
                median(fma2) / median(fma1));
        System.out.printf(Locale.ROOT, "memory stream (read + write): one thread %.1f GB/s, two %.1f (%.2fx)%n", median(bw1), median(bw2),
                median(bw2) / median(bw1));
        long[][] gaps = watchClocks(2, watchSeconds * 1_000_000_000L);
        StringBuilder line = new StringBuilder("time taken from two busy threads (gaps > 50 us):");
        for (int t = 0; t < gaps.length; t++) {
            line.append(String.format(Locale.ROOT, "%s thread %d %.2f%% (%.2f%% in gaps > 1 ms, %d gaps)", t == 0 ? "" : ",", t,
                    100.0 * gaps[t][0] / (watchSeconds * 1e9), 100.0 * gaps[t][1] / (watchSeconds * 1e9), gaps[t][2]));
        }
        System.out.println(line);
    }

    /**
     * {@code threads} threads each reading the clock in a loop for {@code nanos}: per thread, the
     * nanoseconds in gaps between two readings longer than 50 µs, those in gaps longer than 1 ms,
     * and the number of gaps.
     */
    private static long[][] watchClocks(int threads, long nanos) throws InterruptedException {
        long[][] gaps = new long[threads][3];
        Thread[] watchers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            long[] mine = gaps[t];
            watchers[t] = new Thread(() -> {
                long last = System.nanoTime(), end = last + nanos;
                while (last < end) {
                    long now = System.nanoTime(), gap = now - last;
                    if (gap > 50_000) {
                        mine[0] += gap;
                        if (gap > 1_000_000) mine[1] += gap;
                        mine[2]++;
                    }
                    last = now;
                }
            });
        }
        for (Thread t : watchers) t.start();
        for (Thread t : watchers) t.join();
        return gaps;
    }

    /** GFLOP/s of {@code threads} threads each running {@link #fmaChains} for 0.3 s. */
    private static double fmaRate(int threads) throws InterruptedException {
        long[] flops = new long[threads];
        Thread[] others = new Thread[threads - 1];
        for (int t = 1; t < threads; t++) {
            int at = t;
            others[t - 1] = new Thread(() -> flops[at] = fmaChains(300_000_000L));
        }
        long start = System.nanoTime();
        for (Thread t : others) t.start();
        flops[0] = fmaChains(300_000_000L);
        for (Thread t : others) t.join();
        long total = 0;
        for (long f : flops) total += f;
        return total / (double) (System.nanoTime() - start);
    }

    /** Eight independent fma chains for {@code nanos}; returns the flops done (2 per fma). */
    private static long fmaChains(long nanos) {
        float a0 = 1, a1 = 1, a2 = 1, a3 = 1, a4 = 1, a5 = 1, a6 = 1, a7 = 1, m = 0.999999f, c = 1e-7f;
        long fmas = 0, end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            for (int i = 0; i < 4096; i++) {
                a0 = Math.fma(a0, m, c);
                a1 = Math.fma(a1, m, c);
                a2 = Math.fma(a2, m, c);
                a3 = Math.fma(a3, m, c);
                a4 = Math.fma(a4, m, c);
                a5 = Math.fma(a5, m, c);
                a6 = Math.fma(a6, m, c);
                a7 = Math.fma(a7, m, c);
            }
            fmas += 8 * 4096;
        }
        sink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        return 2 * fmas;
    }

    /** GB/s read and written by {@code threads} threads, each streaming its own pair of arrays for about 0.3 s. */
    private static double streamRate(float[][] src, float[][] dst, int threads) throws InterruptedException {
        long bytesPerPass = 8L * src[0].length;
        int passes = 12;
        Thread[] others = new Thread[threads - 1];
        for (int t = 1; t < threads; t++) {
            int at = t;
            others[t - 1] = new Thread(() -> {
                for (int p = 0; p < passes; p++) stream(src[at], dst[at]);
            });
        }
        long start = System.nanoTime();
        for (Thread t : others) t.start();
        for (int p = 0; p < passes; p++) stream(src[0], dst[0]);
        for (Thread t : others) t.join();
        return threads * passes * bytesPerPass / (double) (System.nanoTime() - start);
    }

    private static void stream(float[] s, float[] d) {
        for (int i = 0; i < s.length; i++) d[i] = s[i] * 1.0001f;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
