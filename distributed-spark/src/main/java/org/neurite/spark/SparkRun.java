package org.neurite.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.stream.IntStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.neurite.data.Dataset;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.EpochStats;
import org.neurite.engine.NumericalFaultException;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;
import scala.Tuple2;

/**
 * The driver of training on Spark. Each synchronous step:
 * <ol>
 *   <li>the driver's weights, one flat {@code float[]}, are broadcast;</li>
 *   <li>one task per partition computes the gradient of its contiguous slice of the global batch
 *       (the batch the single-machine {@link Trainer} would take: same seeded epoch order, same
 *       size), scaled by 1/global rows ({@link SliceTask#gradient});</li>
 *   <li>{@code treeAggregate} sums the slices' gradients, loss and correct counts;</li>
 *   <li>the driver writes the sum into its gradient buffers and applies it with its own
 *       {@link Trainer}'s {@link org.neurite.engine.TrainStep#update} (norm, non-finite refusal,
 *       clipping, optimiser), exactly as a single-machine step.</li>
 * </ol>
 * In averaging mode each task instead takes {@code average_every} whole
 * {@link org.neurite.engine.TrainStep}s on its slices and the driver averages the weights and
 * optimiser slots the tasks return. In both modes a NaN stops the run with the message of the
 * step that saw it ({@link #aggregate}).
 *
 * <p>Fault tolerance is Spark's: a failed task is retried ({@code max_failures}), and because a
 * task is a pure function of (broadcast weights, epoch, slice, step) the retry returns the same
 * numbers. The driver writes a checkpoint every {@code checkpoint_every} steps through the
 * caller's {@link DistributedTraining.StepCheckpoint}.
 */
final class SparkRun implements DistributedTraining.Run {
    /** Depth of the aggregation tree: partial sums are combined on executors before reaching the driver. */
    private static final int TREE_DEPTH = 2;

    private final SparkConfig config;
    private final TypedGraph graph;
    private final TrainSpec spec;
    private final Trainer trainer;
    private final ParameterStore store;
    private final DistributedTraining.StepCheckpoint checkpoint;
    private final String job;
    private final JavaSparkContext sc;
    private final JavaRDD<Integer> workers;
    private volatile boolean stopRequested;
    private int stoppedAfter = -1;

    SparkRun(DistributedTraining.Job j, SparkConfig config) {
        this.config = config;
        this.graph = j.graph();
        this.spec = j.spec();
        this.trainer = j.trainer();
        this.store = j.store();
        this.checkpoint = j.checkpoint();
        this.job = new WorkerJob(j.script(), j.scriptFile(), j.model(), spec.batch(), spec.epochs(), spec.seed(), j.backend(),
                j.threads(), j.pluginFolders().stream().map(Object::toString).toList(),
                j.dataFolder() == null ? null : j.dataFolder().toAbsolutePath().toString(), config.data(),
                j.limit() == null ? 0 : j.limit(), config.partitions()).encode();
        this.sc = new JavaSparkContext(conf(config, j.model()));
        this.workers = sc.parallelize(IntStream.range(0, config.partitions()).boxed().toList(), config.partitions());
    }

    /**
     * The configuration for a context this run creates. Under {@code spark-submit} the master
     * comes from there ({@code spark.master} is already set) and the deployment's is ignored.
     */
    static SparkConf conf(SparkConfig config, String model) {
        SparkConf conf = new SparkConf().setAppName("neurite train " + model);
        if (!conf.contains("spark.master")) conf.setMaster(config.effectiveMaster());
        if (conf.get("spark.master").startsWith("local")) {
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        conf.setIfMissing("spark.task.maxFailures", Integer.toString(config.maxFailures()));
        // Task results (double[] sums) go through Kryo rather than Java serialisation.
        conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
        return conf;
    }

    /** The Spark context (tests set local properties on it). */
    JavaSparkContext sparkContext() { return sc; }

    @Override public String description() {
        return String.format(Locale.ROOT, "Spark %s, %d partitions, %s", sc.master(), config.partitions(),
                config.mode() == SparkConfig.Mode.SYNC ? "synchronous (gradients tree-summed, one optimiser step)"
                        : "parameter averaging every " + config.averageEvery() + " steps");
    }

    @Override public EpochStats trainEpoch(Dataset data, int epoch, int firstSample, TrainingListener listener) {
        Trainer.checkCompatible(graph, data, trainer.loss());
        if (firstSample < 0 || firstSample >= Math.max(1, data.size())) {
            throw new IllegalArgumentException("epoch " + epoch + " cannot start at sample " + firstSample + " of " + data.size());
        }
        stoppedAfter = -1;
        trainer.applySchedule(epoch);   // the driver's optimiser takes the synchronous steps at this epoch's rate
        long start = System.nanoTime();
        double[] totals = new double[SliceTask.STATS];
        int n = data.size();
        int batch = spec.batch();
        int trained = 0;
        int stepsPerCall = config.mode() == SparkConfig.Mode.SYNC ? 1 : config.averageEvery();
        for (int from = firstSample; from < n; ) {
            int steps = Math.min(stepsPerCall, (n - from + batch - 1) / batch);
            int firstStep = trainer.step() + 1;
            int count = Math.min(n, from + steps * batch) - from;
            double[] stats = config.mode() == SparkConfig.Mode.SYNC
                    ? syncStep(epoch, from, count, firstStep, n) : averagingRound(epoch, from, steps, firstStep, n);
            for (int i = 0; i < totals.length; i++) totals[i] += stats[i];
            int done = from + count;
            trained += count;
            listener.batchDone(epoch, done, n, totals[0] / totals[2],
                    trainer.loss().classification() ? totals[1] / totals[2] : Double.NaN);
            int stepNow = trainer.step();
            if (config.checkpointEvery() > 0 && done < n && stepNow / config.checkpointEvery() > (firstStep - 1) / config.checkpointEvery()) {
                try {
                    checkpoint.write(epoch, done, stepNow);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the checkpoint at step " + stepNow + ": " + e.getMessage(), e);
                }
            }
            from = done;
            if (stopRequested && done < n) {
                stoppedAfter = done;
                break;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double rows = Math.max(1, totals[2]);
        return new EpochStats(epoch, totals[0] / rows, trainer.loss().classification() ? totals[1] / rows : Double.NaN, trained, seconds);
    }

    /** One synchronous step over the {@code count} samples from {@code from}; returns its statistics. */
    private double[] syncStep(int epoch, int from, int count, int step, int samples) {
        Broadcast<float[]> weights = sc.broadcast(Flat.weights(store));
        Tuple2<double[], double[]> sum;
        try {
            sum = aggregate(SliceTask.gradient(job, weights, epoch, from, count, step, samples));
        } finally {
            weights.destroy();
        }
        Flat.setGradients(store, sum._1(), 1.0);
        trainer.setStep(step);
        trainer.trainStep().update(step, epoch);   // norm, non-finite refusal, clipping, optimiser: as a single-machine step
        return sum._2();
    }

    /** {@code steps} local steps on every worker from the driver's state, then the average of what they return. */
    private double[] averagingRound(int epoch, int from, int steps, int firstStep, int samples) {
        Broadcast<float[]> state = sc.broadcast(Flat.state(store));
        Tuple2<double[], double[]> sum;
        try {
            sum = aggregate(SliceTask.localSteps(job, state, epoch, from, spec.batch(), steps, firstStep, samples));
        } finally {
            state.destroy();
        }
        double reported = sum._2()[3];
        if (reported > 0) Flat.setState(store, sum._1(), 1.0 / reported);
        trainer.setStep(firstStep + steps - 1);
        return sum._2();
    }

    /**
     * Runs {@code task} on every partition and sums the results. A worker's
     * {@link NumericalFaultException} (a NaN in its step) reaches the driver inside Spark's job
     * failure; it is thrown again here with the worker's message, so the run stops as a
     * single-machine run does, the driver's weights as they were before the step or round.
     */
    private Tuple2<double[], double[]> aggregate(Function2<Tuple2<double[], double[]>, Integer, Tuple2<double[], double[]>> task) {
        try {
            return workers.treeAggregate(SliceTask.zero(), task, SliceTask::combine, TREE_DEPTH);
        } catch (Exception e) {   // Spark's job failure is a checked SparkException, thrown undeclared
            String fault = numericalFault(e);
            if (fault != null) throw new NumericalFaultException(fault);
            if (e instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** The message of a worker's NumericalFaultException inside {@code e}, or null when it holds none. */
    static String numericalFault(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NumericalFaultException) return t.getMessage();
        }
        // Spark sends the exception itself only when it serialised; its text is always in the message.
        String prefix = NumericalFaultException.class.getName() + ": ";
        String text = e.getMessage();
        int at = text == null ? -1 : text.indexOf(prefix);
        if (at < 0) return null;
        int end = text.indexOf('\n', at);
        return text.substring(at + prefix.length(), end < 0 ? text.length() : end).strip();
    }

    @Override public int stoppedAfter() { return stoppedAfter; }

    @Override public void requestStop() { stopRequested = true; }

    @Override public void close() {
        sc.stop();
    }
}
