package org.neurite.spark;

import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.neurite.data.Dataset;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.NumericalFaultException;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.StepExecutor;
import org.neurite.engine.TrainStep;
import org.neurite.engine.Trainer;
import org.neurite.train.TrainSpec;
import scala.Tuple2;

/**
 * The driver of training on Spark: the {@link StepExecutor} through which the driver's
 * {@link Trainer} computes its steps. The trainer's loop chooses the batches, tells the listener,
 * writes the checkpoints inside an epoch ({@link #checkpointEvery()}) and stops on request, as
 * for a run on one machine; this class only computes what it is handed. Each synchronous step:
 * <ol>
 *   <li>the driver's weights, one flat {@code float[]}, are broadcast;</li>
 *   <li>one task per partition computes the gradient of its contiguous slice of the global batch
 *       (the batch the single-machine {@link Trainer} would take: same seeded epoch order, same
 *       size), scaled by 1/global rows ({@link SliceTask#gradient});</li>
 *   <li>{@code treeAggregate} sums the slices' gradients, loss and correct counts;</li>
 *   <li>the driver writes the sum into its gradient buffers and applies it with its own
 *       {@link Trainer}'s {@link TrainStep#update} (norm, non-finite refusal, clipping,
 *       optimiser), exactly as a single-machine step.</li>
 * </ol>
 * In averaging mode a take is a round ({@link #stepsPerTake()} = {@code average_every}): each
 * task takes that many whole {@link TrainStep}s on its slices and the driver averages the weights
 * and optimiser slots the tasks return. In both modes a NaN stops the run with the message of the
 * step that saw it ({@link #aggregate}), the driver's weights from before the step or round.
 *
 * <p>Fault tolerance is Spark's: a failed task is retried ({@code max_failures}), and because a
 * task is a pure function of (broadcast weights, epoch, slice, step) the retry returns the same
 * numbers.
 */
final class SparkRun implements DistributedTraining.Run {
    /** Depth of the aggregation tree: partial sums are combined on executors before reaching the driver. */
    private static final int TREE_DEPTH = 2;

    private final SparkConfig config;
    private final TrainSpec spec;
    private final TrainStep trainStep;
    private final ParameterStore store;
    private final String job;
    private final JavaSparkContext sc;
    private final JavaRDD<Integer> workers;
    /** What the last take measured, until {@link #collect}; null when collected. */
    private TrainStep.Result measured;

    SparkRun(DistributedTraining.Job j, SparkConfig config) {
        this.config = config;
        this.spec = j.spec();
        this.trainStep = j.trainer().trainStep();
        this.store = j.store();
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

    @Override public int stepsPerTake() {
        return config.mode() == SparkConfig.Mode.SYNC ? 1 : config.averageEvery();
    }

    @Override public int checkpointEvery() { return config.checkpointEvery(); }

    @Override public void take(Dataset data, int[] order, int epoch, int from, int steps, int firstStep) {
        if (measured != null) throw new IllegalStateException("collect the last take's results first");
        // The workers derive the epoch's order from the seed; the driver's order is the same permutation.
        int n = data.size();
        double[] stats = config.mode() == SparkConfig.Mode.SYNC
                ? syncStep(epoch, from, Math.min(spec.batch(), n - from), firstStep, n)
                : averagingRound(epoch, from, steps, firstStep, n);
        measured = new TrainStep.Result(stats[0], (long) stats[1], (int) stats[2]);
    }

    @Override public List<TrainStep.Result> collect() {
        List<TrainStep.Result> results = measured == null ? List.of() : List.of(measured);
        measured = null;
        return results;
    }

    @Override public int pending() { return measured == null ? 0 : 1; }

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
        trainStep.update(step, epoch);   // norm, non-finite refusal, clipping, optimiser: as a single-machine step
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

    @Override public void close() {
        sc.stop();
    }
}
