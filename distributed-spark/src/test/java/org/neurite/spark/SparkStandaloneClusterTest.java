package org.neurite.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.spark.Success$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.io.NamedTensor;

/**
 * LeNet-5 trained on a real Spark standalone cluster: a master and two worker processes on
 * 127.0.0.1 ({@link StandaloneCluster}), one single-core executor JVM each, and this JVM as the
 * client-mode driver with the settings of the README's {@code spark-submit} recipe
 * ({@link SubmitSettings#forCluster}: Neurite's jars shipped with {@code spark.jars}). Two epochs
 * of 10 synchronous steps (global batch 64, two partitions):
 * <ul>
 *   <li>after epoch 1 the weights equal the single-machine {@link Trainer}'s within 10⁻⁴, and
 *       those of Spark {@code local[2]} bit for bit (the executors run the same code on the same
 *       slices, in other JVMs);</li>
 *   <li>4 steps into epoch 2 worker 1's JVM is killed with SIGKILL. Its executor goes with it,
 *       Spark runs the lost work on the surviving executor, and the run completes: every step's
 *       two tasks succeed exactly once, and the weights after epoch 2 still equal the single
 *       machine's within 10⁻⁴ and {@code local[2]}'s bit for bit.</li>
 * </ul>
 * It prints the median step time of the three (the cluster's overhead against {@code local[2]}
 * and one machine); the figures in docs/distributed.md come from {@link SparkOverhead}, which
 * times more steps.
 */
@Timeout(value = 170, unit = TimeUnit.SECONDS)
class SparkStandaloneClusterTest {
    static final int STEPS = 10;
    static final int BATCH = 64;
    static final int WORKERS = 2;
    /** Steps of epoch 2 taken before worker 1 is killed. */
    static final int KILL_AFTER = 4;
    static final double TOLERANCE = 1e-4;
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    @TempDir static Path tmp;
    static LeNetRuns runs;
    static List<NamedTensor> initial;
    static final List<List<NamedTensor>> single = new ArrayList<>();
    static final List<List<NamedTensor>> local = new ArrayList<>();
    /** Epoch 1's steps. */
    static final StepClock singleClock = new StepClock();
    static final StepClock localClock = new StepClock();

    @BeforeAll static void trainOnOneMachineAndOnLocal2() throws Exception {
        runs = new LeNetRuns(tmp.resolve("data"), STEPS * BATCH, BATCH);
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec)) {
            initial = store.export();
            for (int epoch = 1; epoch <= 2; epoch++) {
                trainer.trainEpoch(runs.train, epoch, epoch == 1 ? singleClock : TrainingListener.NONE);
                single.add(store.export());
            }
        }
        try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
             SparkRun run = runs.open(sync("local[2]"), trainer, store)) {
            for (int epoch = 1; epoch <= 2; epoch++) {
                trainer.trainEpoch(runs.train, epoch, 0, epoch == 1 ? localClock : TrainingListener.NONE);
                local.add(store.export());
            }
        }
    }

    static SparkConfig sync(String master) {
        return new SparkConfig(master, WORKERS, SparkConfig.Mode.SYNC, 10, 0, 4, null);
    }

    @Test void twoWorkerProcessesTrainAsOneMachineAndSurviveAWorkerKilledMidEpoch() throws Exception {
        long t0 = System.nanoTime();
        try (StandaloneCluster cluster = StandaloneCluster.start(tmp.resolve("cluster"), WORKERS, "1g", START_TIMEOUT)) {
            long up = System.nanoTime();
            String jars = cluster.applicationJars().stream().map(Path::toString).collect(Collectors.joining(","));
            SubmitSettings submitted = new SubmitSettings(SubmitSettings.forCluster(jars, WORKERS, "512m"));
            try (ParameterStore store = runs.store(); Trainer trainer = new Trainer(runs.graph, store, runs.spec);
                 SparkRun run = runs.open(sync(cluster.masterUrl()), trainer, store)) {
                awaitExecutors(run, cluster);
                long registered = System.nanoTime();
                String app = run.sparkContext().sc().applicationId();
                String victim = cluster.executorsOf(1, app).get(0);
                TaskLog tasks = new TaskLog();
                tasks.victim = victim;
                run.sparkContext().sc().addSparkListener(tasks);

                StepClock clusterClock = new StepClock();
                EpochStats first = trainer.trainEpoch(runs.train, 1, 0, clusterClock);
                assertEquals(STEPS * BATCH, first.samples());
                assertWeights(1, store.export());

                // After step 14 worker 1's executor is paused, so the task it is handed at step 15 cannot finish;
                // the moment the driver has handed it that task, the worker and its executor are killed.
                TrainingListener pauseMidEpoch = new TrainingListener() {
                    @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                        if (done != (long) KILL_AFTER * BATCH) return;
                        try {
                            cluster.pauseExecutors(1);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException(e);
                        }
                        tasks.killOnNextTask(() -> cluster.killWorker(1));
                    }
                };
                EpochStats second = trainer.trainEpoch(runs.train, 2, 0, pauseMidEpoch);
                run.sparkContext().sc().listenerBus().waitUntilEmpty(30_000);
                assertEquals(STEPS * BATCH, second.samples(), "epoch 2 completed");
                assertEquals(2 * STEPS, trainer.step());
                assertTrue(tasks.removed.contains(victim), "the driver lost executor " + victim + " of the killed worker; removed: "
                        + tasks.removed + "\n" + cluster.logTails());
                assertTrue(tasks.killedAt < Long.MAX_VALUE, "the killed worker's executor was handed a task of epoch 2 after step " + KILL_AFTER);
                assertTrue(tasks.lost >= 1, "the task in flight on the killed worker was lost");
                assertEquals(2 * STEPS * WORKERS, tasks.succeeded, "each step's task of each partition succeeded exactly once");
                assertWeights(2, store.export());
                System.out.printf(Locale.ROOT, "standalone cluster: master and workers up in %.1f s, executors registered %.1f s later,"
                        + " two epochs in %.1f s%n", (up - t0) / 1e9, (registered - up) / 1e9, (System.nanoTime() - registered) / 1e9);
                System.out.printf(Locale.ROOT, "standalone cluster: worker 1 (executor %s) killed after step %d of epoch 2; "
                        + "%d task(s) lost with it ran again on the other executor; the run completed%n",
                        victim, STEPS + KILL_AFTER, tasks.lost);
                System.out.printf(Locale.ROOT, "median step, LeNet-5, global batch %d, epoch 1 from its third step: single machine "
                        + "(1 thread) %.1f ms, Spark local[2] %.1f ms, standalone cluster (2 workers x 1 core) %.1f ms%n", BATCH,
                        singleClock.medianMillis(1), localClock.medianMillis(1), clusterClock.medianMillis(1));
            } finally {
                submitted.close();
            }
        }
    }

    /** Waits (bounded) until both workers' executors have registered with the driver. */
    private static void awaitExecutors(SparkRun run, StandaloneCluster cluster) throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        // The driver itself is listed too.
        while (run.sparkContext().sc().getExecutorMemoryStatus().size() < WORKERS + 1) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the executors did not register within " + START_TIMEOUT + "\n" + cluster.logTails());
            }
            Thread.sleep(100);
        }
    }

    private static void assertWeights(int epoch, List<NamedTensor> cluster) {
        double moved = LeNetRuns.maxDifference(initial, cluster);
        double difference = LeNetRuns.maxDifference(single.get(epoch - 1), cluster);
        System.out.printf(Locale.ROOT, "standalone cluster vs single machine after %d steps: max |dw| = %.3e (weights moved up to %.3e)%n",
                epoch * STEPS, difference, moved);
        assertTrue(moved > 100 * TOLERANCE, "training moved the weights by only " + moved);
        assertTrue(difference <= TOLERANCE, "after epoch " + epoch + ": max |dw| = " + difference);
        SparkTrainingTest.assertIdentical(local.get(epoch - 1), cluster);
    }

    /** The driver's view of the tasks: which succeeded, which were lost, which executors went away. */
    private static final class TaskLog extends SparkListener {
        final Set<String> removed = ConcurrentHashMap.newKeySet();
        volatile String victim;
        volatile long killedAt = Long.MAX_VALUE;
        private volatile Runnable kill;
        int succeeded;
        int lost;

        /** Runs {@code action} once, when the driver next hands the victim executor a task. */
        void killOnNextTask(Runnable action) {
            kill = action;
        }

        @Override public void onTaskStart(SparkListenerTaskStart start) {
            Runnable k = kill;
            if (k != null && start.taskInfo().executorId().equals(victim)) {
                kill = null;
                killedAt = System.currentTimeMillis();
                k.run();
            }
        }

        @Override public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
            if (end.reason() == Success$.MODULE$) succeeded++;
            else lost++;
        }

        @Override public void onExecutorRemoved(SparkListenerExecutorRemoved e) {
            removed.add(e.executorId());
        }
    }
}
