package org.neurite.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.neurite.backend.Backend;
import org.neurite.backend.BackendCounters;
import org.neurite.data.Dataset;
import org.neurite.data.EpochOrder;
import org.neurite.graph.TypedGraph;
import org.neurite.train.Metric;
import org.neurite.train.Metrics;
import org.neurite.train.TrainSpec;

/**
 * Trains a graph on a {@link Dataset}, one epoch at a time: the one loop over an epoch's steps,
 * wherever the steps are computed. Each step takes a batch in a seeded per-epoch order; the
 * trainer's {@link StepExecutor} computes it. By default that is the {@link TrainStep} on the
 * store's backend (forward, loss, backward, global-norm clipping, the non-finite check and the
 * optimiser), which keeps the step's loss, correct count and gradient norm on the device; the
 * trainer reads them every {@link TrainStep#readEvery()} steps, at the end of the epoch, before a
 * checkpoint and before it stops, and then tells the listener about each of those steps in
 * order. A cluster ({@link #stepExecutor(StepExecutor)}, Spark) computes the steps on its
 * workers instead, through the same loop. A step that was not finite is reported
 * ({@link NumericalFaultException}) with the weights from before it. The loop around epochs
 * (schedule, evaluation, the per-epoch files, resume) is {@link TrainingRun}'s.
 *
 * <p>Reproducible: weights, shuffling and dropout all derive from {@code spec.seed()}, and the
 * learning rate of an epoch from the epoch's number ({@link TrainSpec#learningRate(int)}, set
 * when the epoch starts), so a run resumed at epoch N trains with epoch N's rate.
 *
 * <p>Interruptible: {@link #requestStop()} (from a signal handler, any thread) ends the epoch
 * after the step in progress; {@link #stoppedAfter()} then says how many samples of the epoch
 * were trained, and {@link #trainEpoch(Dataset, int, int, TrainingListener)} continues from
 * there with the same order, so an interrupted and resumed run takes exactly the steps of one
 * that was never interrupted.
 */
public final class Trainer implements AutoCloseable {
    private final TypedGraph graph;
    private final TrainSpec spec;
    private final TrainStep trainStep;
    private final Backend backend;
    private final List<Metric> metrics;
    private StepExecutor executor;
    private int checkpointEvery;
    private StepCheckpoint checkpoint;
    private int step;
    private EpochOrder epochOrder;
    private int[] order;
    /** Set by {@link #requestStop()} from another thread; read between steps. */
    private volatile boolean stopRequested;
    private int stoppedAfter = -1;
    /** What the last {@link #trainEpoch} call took: its steps and the backend's counts over them. */
    private int epochSteps;
    private BackendCounters epochCounters;

    /** A trainer with the core's loss and optimizer named in {@code spec}; {@link Trainers} also finds plugins'. */
    public Trainer(TypedGraph graph, ParameterStore store, TrainSpec spec) {
        this(graph, store, spec, Loss.byName(spec.loss()), Optimizer.create(spec.optimizer(), store));
    }

    /** A trainer with the loss and the optimizer (over {@code store}'s parameters) already chosen, evaluating the core's metrics. */
    public Trainer(TypedGraph graph, ParameterStore store, TrainSpec spec, Loss loss, Optimizer optimizer) {
        this(graph, store, spec, loss, optimizer, Metrics.CORE);
    }

    /** @param metrics what {@link #evaluation} measures besides the loss ({@link Trainers#metrics}) */
    public Trainer(TypedGraph graph, ParameterStore store, TrainSpec spec, Loss loss, Optimizer optimizer, List<Metric> metrics) {
        this.graph = graph;
        this.spec = spec;
        this.metrics = List.copyOf(metrics);
        this.trainStep = new TrainStep(graph, store, spec, loss, optimizer, spec.batch());
        this.backend = store.backend();
        this.executor = new LocalSteps(trainStep, spec.batch());
    }

    /** Writes a checkpoint inside an epoch (the caller knows the file and the script). */
    @FunctionalInterface
    public interface StepCheckpoint {
        /**
         * @param epoch the epoch in progress (counted from 1)
         * @param samplesDone samples of that epoch trained so far (a batch boundary, less than the epoch's size)
         * @param step optimiser steps taken in all
         */
        void write(int epoch, int samplesDone, int step) throws IOException;
    }

    /**
     * Computes the steps with {@code executor} from now on (a cluster's, {@link DistributedTraining.Run});
     * null goes back to this trainer's own {@link TrainStep} on the store's backend.
     */
    public void stepExecutor(StepExecutor executor) {
        this.executor = executor != null ? executor : new LocalSteps(trainStep, spec.batch());
    }

    /**
     * Writes a checkpoint with {@code writer} whenever an epoch's steps pass a multiple of
     * {@code steps} (not at the end of an epoch, whose checkpoint is {@link TrainingRun}'s); 0 writes none.
     */
    public void checkpointEvery(int steps, StepCheckpoint writer) {
        if (steps < 0) throw new IllegalArgumentException("checkpoints every " + steps + " steps");
        this.checkpointEvery = writer == null ? 0 : steps;
        this.checkpoint = writer;
    }

    public Optimizer optimizer() { return trainStep.optimizer(); }

    public Loss loss() { return trainStep.loss(); }

    /** The step this trainer takes; a {@link DistributedTraining} driver applies summed gradients with its {@link TrainStep#update}. */
    public TrainStep trainStep() { return trainStep; }

    /** Optimiser steps taken so far. */
    public int step() { return step; }

    /** Continues counting from {@code step} (when resuming a checkpoint). */
    public void setStep(int step) { this.step = step; }

    /**
     * Records ‖dL/dh_t‖ of every recurrent layer at every step from now on (a diagnostic that
     * copies gradients to the host); read the means with {@link #takeStepGradientNorms()}.
     */
    public void recordStepGradients() { trainStep.recordStepGradients(); }

    /**
     * Mean ‖dL/dh_t‖ per recurrent node and time step over the training steps since the last call,
     * then starts a new average. Empty when nothing was recorded.
     */
    public Map<String, double[]> takeStepGradientNorms() { return trainStep.takeStepGradientNorms(); }

    /**
     * Sets the optimiser's learning rate to the schedule's rate for {@code epoch} (counted from
     * 1). {@link #trainEpoch} does this before its first step, the epoch a resumed run starts
     * inside included.
     */
    public void applySchedule(int epoch) {
        trainStep.optimizer().setLearningRate(spec.learningRate(epoch));
    }

    /** Asks the epoch in progress to stop after its current step; safe to call from any thread. */
    public void requestStop() { stopRequested = true; }

    /** Whether {@link #requestStop()} was called. */
    public boolean stopRequested() { return stopRequested; }

    /**
     * Samples of the epoch that the last {@link #trainEpoch} call had trained when a stop request
     * ended it early, counted from the start of the epoch (a multiple of the batch size); -1 when
     * that call ran to the end of the epoch.
     */
    public int stoppedAfter() { return stoppedAfter; }

    /**
     * The launches and host synchronisations of the backend during the last {@link #trainEpoch}
     * call, and its steps ({@link #lastEpochSteps()}); empty when the backend counts nothing
     * (a third-party backend used without the runtime's {@code CheckedBackend}).
     */
    public Optional<BackendCounters> lastEpochCounters() { return Optional.ofNullable(epochCounters); }

    /** The optimiser steps the last {@link #trainEpoch} call took. */
    public int lastEpochSteps() { return epochSteps; }

    /** Global L2 norm of the gradients at the last step, before clipping. */
    public double lastGradientNorm() { return trainStep.lastGradientNorm(); }

    /** Which part of the model a {@link #checkCompatible} refusal is about. */
    public enum Misfit { INPUT, LOSS, OUTPUT }

    /** Why {@code data} does not fit a model: the part it is about and what disagrees. */
    public record Incompatibility(Misfit about, String message) {}

    /**
     * Checks that {@code data} fits the graph and the loss: samples have the input's size, targets
     * match the output, and class labels go with a classification loss.
     *
     * @throws IllegalArgumentException saying what disagrees
     */
    public static void checkCompatible(TypedGraph graph, Dataset data, Loss loss) {
        Incompatibility misfit = incompatibility(graph, data, loss);
        if (misfit != null) throw new IllegalArgumentException(misfit.message());
    }

    /** What {@link #checkCompatible} refuses, with the part of the model it is about; null when {@code data} fits. */
    public static Incompatibility incompatibility(TypedGraph graph, Dataset data, Loss loss) {
        var input = graph.graph().inputs().get(0);
        String output = "model output '" + graph.graph().outputs().get(0) + "' " + graph.outputShape();
        if (data.sampleShape().size() != input.shape().size()) {
            return new Incompatibility(Misfit.INPUT, "model input '" + input.name() + "' is " + input.shape()
                    + " but the samples of " + data.name() + " are " + data.sampleShape());
        }
        int outputs = graph.outputShape().size();
        if (loss.classification() != data.isClassification()) {
            return new Incompatibility(Misfit.LOSS, "loss " + loss.name() + " needs "
                    + (loss.classification() ? "class labels" : "real-valued targets")
                    + " but " + data.name() + " has " + (data.isClassification() ? "class labels; use loss = softmax_cross_entropy"
                    : "real-valued targets; use loss = mse"));
        }
        if (loss.classification()) {
            if (outputs % data.targetSize() != 0 || outputs / data.targetSize() < data.classes()) {
                return new Incompatibility(Misfit.OUTPUT, output + " cannot score " + data.classes() + " classes"
                        + (data.targetSize() > 1 ? " at each of " + data.targetSize() + " steps" : "") + " of " + data.name());
            }
        } else if (outputs != data.targetSize()) {
            return new Incompatibility(Misfit.OUTPUT, output + " has " + outputs + " values but the targets of " + data.name()
                    + " have " + data.targetSize());
        }
        return null;
    }

    /** One pass over {@code data} in the seeded order of {@code epoch} (counted from 1). */
    public EpochStats trainEpoch(Dataset data, int epoch, TrainingListener listener) {
        return trainEpoch(data, epoch, 0, listener);
    }

    /**
     * The rest of {@code epoch} from sample {@code firstSample} of its seeded order (0: the whole
     * epoch; otherwise where a checkpoint written inside the epoch stopped, a batch boundary).
     * The statistics cover the samples trained by this call. Returns early, after a whole step
     * (or averaging round), when {@link #requestStop()} is called; see {@link #stoppedAfter()}.
     */
    public EpochStats trainEpoch(Dataset data, int epoch, int firstSample, TrainingListener listener) {
        Loss loss = trainStep.loss();
        checkCompatible(graph, data, loss);
        if (firstSample < 0 || firstSample >= Math.max(1, data.size())) {
            throw new IllegalArgumentException("epoch " + epoch + " cannot start at sample " + firstSample + " of " + data.size());
        }
        stoppedAfter = -1;
        applySchedule(epoch);
        int n = data.size();
        if (epochOrder == null || epochOrder.size() != n) {
            epochOrder = new EpochOrder(spec.seed(), n);
            order = new int[n];
        }
        epochOrder.fill(epoch, order);
        long start = System.nanoTime();
        Optional<BackendCounters> countsAtStart = backend.counters();
        Totals totals = new Totals(epoch, n, loss.classification(), listener);
        int batch = spec.batch();
        int trained = 0;
        int firstStep = step + 1;
        // Samples of the epoch done after each take waiting in the executor, for the listener.
        int[] doneAfter = new int[executor.readEvery()];
        try {
            for (int from = firstSample; from < n; ) {
                // (left - 1) / batch + 1: the batches left, without overflowing int when batch is near 2^31
                int steps = Math.min(executor.stepsPerTake(), (n - from - 1) / batch + 1);
                int takeStart = step + 1;
                listener.batchStart(epoch, takeStart, from);
                executor.take(data, order, epoch, from, steps, takeStart);
                step += steps;
                int done = (int) Math.min(n, from + (long) steps * batch);
                doneAfter[executor.pending() - 1] = done;
                trained += done - from;
                boolean checkpointDue = checkpointEvery > 0 && done < n && step / checkpointEvery > (takeStart - 1) / checkpointEvery;
                if (executor.pending() == executor.readEvery() || done == n || stopRequested || checkpointDue) {
                    totals.add(executor.collect(), doneAfter);
                }
                if (checkpointDue) writeCheckpoint(epoch, done);
                if (stopRequested && done < n) {   // also when a listener asked while hearing of this step
                    if (executor.pending() > 0) totals.add(executor.collect(), doneAfter);   // asked since the read
                    stoppedAfter = done;
                    break;
                }
                from = done;
            }
        } catch (NumericalFaultException e) {
            // The weights are those from before the faulty step: count the steps that were applied
            // (a take that failed at once applied none of its steps, and was never counted).
            if (e.step() > 0) step = Math.min(step, e.step() - 1);
            throw e;
        }
        epochSteps = step - firstStep + 1;
        epochCounters = countsAtStart.flatMap(at -> backend.counters().map(now -> now.minus(at))).orElse(null);
        double seconds = (System.nanoTime() - start) / 1e9;
        long allRows = Math.max(1, totals.rows);
        return new EpochStats(epoch, totals.lossSum / allRows, loss.classification() ? (double) totals.correct / allRows : Double.NaN,
                trained, seconds);
    }

    private void writeCheckpoint(int epoch, int done) {
        try {
            checkpoint.write(epoch, done, step);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint at step " + step + ": " + e.getMessage(), e);
        }
    }

    /** The running sums of an epoch's steps, told to the listener step by step as they are read. */
    private static final class Totals {
        private final int epoch;
        private final int samples;
        private final boolean classification;
        private final TrainingListener listener;
        double lossSum;
        long correct;
        long rows;

        Totals(int epoch, int samples, boolean classification, TrainingListener listener) {
            this.epoch = epoch;
            this.samples = samples;
            this.classification = classification;
            this.listener = listener;
        }

        /** Adds the steps read at once; {@code doneAfter[i]} is the epoch's samples done after the i-th. */
        void add(List<TrainStep.Result> results, int[] doneAfter) {
            for (int i = 0; i < results.size(); i++) {
                TrainStep.Result r = results.get(i);
                lossSum += r.lossSum();
                correct += r.correct();
                rows += r.rows();
                listener.batchDone(epoch, doneAfter[i], samples, lossSum / rows, classification ? (double) correct / rows : Double.NaN);
            }
        }
    }

    /** Mean loss and accuracy over {@code data} in evaluation mode (no dropout, no updates). */
    public EpochStats evaluate(Dataset data, int epoch) {
        return evaluation(data, epoch).stats();
    }

    /** Everything {@link Evaluator} measures over {@code data} after {@code epoch}, with this trainer's compiled models. */
    public Evaluation evaluation(Dataset data, int epoch) {
        checkCompatible(graph, data, trainStep.loss());
        return Evaluator.evaluate(trainStep.models(data.targetSize()), trainStep.loss(), metrics, data, epoch,
                trainStep.evaluationBatch(spec.batch()));
    }

    /** What {@link #evaluation} measures besides the loss (those of the loss's kind). */
    public List<Metric> metrics() { return metrics; }

    @Override public void close() {
        trainStep.close();
    }
}
