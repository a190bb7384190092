package org.neurite.engine;

import org.neurite.backend.CounterRandom;
import org.neurite.data.Dataset;
import org.neurite.data.EpochOrder;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * Trains a graph on a {@link Dataset}, one epoch at a time. Each step reads a batch in a seeded
 * per-epoch order, runs forward, the loss, backward, optional global-norm gradient clipping and
 * the optimiser, all on the store's backend; only the loss (and, for classifiers, the logits
 * needed for accuracy) come back to the host.
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
    private final ParameterStore store;
    private final TrainSpec spec;
    private final Loss loss;
    private final Optimizer optimizer;
    private CompiledModelsByBatch run;
    private int step;
    private EpochOrder epochOrder;
    private int[] order;
    private double lastGradientNorm;
    /** Per recurrent node: sums of ‖dL/dh_t‖ over the steps since the last take; null when not recording. */
    private java.util.Map<String, double[]> stepGradientSums;
    private int stepGradientCount;
    /** Set by {@link #requestStop()} from another thread; read between steps. */
    private volatile boolean stopRequested;
    private int stoppedAfter = -1;

    public Trainer(TypedGraph graph, ParameterStore store, TrainSpec spec) {
        this.graph = graph;
        this.store = store;
        this.spec = spec;
        this.loss = Loss.byName(spec.loss());
        this.optimizer = Optimizer.create(spec.optimizer(), store);
    }

    public Optimizer optimizer() { return optimizer; }

    public Loss loss() { return loss; }

    /** Optimiser steps taken so far. */
    public int step() { return step; }

    /** Continues counting from {@code step} (when resuming a checkpoint). */
    public void setStep(int step) { this.step = step; }

    /**
     * Records ‖dL/dh_t‖ of every recurrent layer at every step from now on (a diagnostic that
     * copies gradients to the host); read the means with {@link #takeStepGradientNorms()}.
     */
    public void recordStepGradients() {
        stepGradientSums = new java.util.LinkedHashMap<>();
    }

    /**
     * Mean ‖dL/dh_t‖ per recurrent node and time step over the training steps since the last call,
     * then starts a new average. Empty when nothing was recorded.
     */
    public java.util.Map<String, double[]> takeStepGradientNorms() {
        java.util.Map<String, double[]> means = new java.util.LinkedHashMap<>();
        if (stepGradientSums == null || stepGradientCount == 0) return means;
        stepGradientSums.forEach((node, sums) -> {
            double[] mean = new double[sums.length];
            for (int t = 0; t < sums.length; t++) mean[t] = sums[t] / stepGradientCount;
            means.put(node, mean);
        });
        stepGradientSums.clear();
        stepGradientCount = 0;
        return means;
    }

    private void accumulateStepGradients(CompiledModel m) {
        var probes = m.stepGradientProbes();
        probes.forEach((node, probe) -> {
            double[] norms = probe.stepGradientNorms();
            double[] sums = stepGradientSums.computeIfAbsent(node, k -> new double[norms.length]);
            for (int t = 0; t < norms.length; t++) sums[t] += norms[t];
        });
        stepGradientCount++;
    }

    /**
     * Sets the optimiser's learning rate to the schedule's rate for {@code epoch} (counted from
     * 1). {@link #trainEpoch} does this before its first step; a {@link DistributedTraining} run
     * that steps this trainer's optimiser itself calls it at the start of every epoch, the epoch a
     * resumed run starts inside included.
     */
    public void applySchedule(int epoch) {
        optimizer.setLearningRate(spec.learningRate(epoch));
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

    /** Global L2 norm of the gradients at the last step, before clipping. */
    public double lastGradientNorm() { return lastGradientNorm; }

    /**
     * Checks that {@code data} fits the graph and the loss: samples have the input's size, targets
     * match the output, and class labels go with a classification loss.
     *
     * @throws IllegalArgumentException saying what disagrees
     */
    public static void checkCompatible(TypedGraph graph, Dataset data, Loss loss) {
        var input = graph.graph().inputs().get(0);
        String output = "model output '" + graph.graph().outputs().get(0) + "' " + graph.outputShape();
        if (data.sampleShape().size() != input.shape().size()) {
            throw new IllegalArgumentException("model input '" + input.name() + "' is " + input.shape()
                    + " but the samples of " + data.name() + " are " + data.sampleShape());
        }
        int outputs = graph.outputShape().size();
        if (loss.classification() != data.isClassification()) {
            throw new IllegalArgumentException("loss " + loss.name() + " needs " + (loss.classification() ? "class labels" : "real-valued targets")
                    + " but " + data.name() + " has " + (data.isClassification() ? "class labels; use loss = softmax_cross_entropy"
                    : "real-valued targets; use loss = mse"));
        }
        if (loss.classification()) {
            if (outputs % data.targetSize() != 0 || outputs / data.targetSize() < data.classes()) {
                throw new IllegalArgumentException(output + " cannot score " + data.classes() + " classes"
                        + (data.targetSize() > 1 ? " at each of " + data.targetSize() + " steps" : "") + " of " + data.name());
            }
        } else if (outputs != data.targetSize()) {
            throw new IllegalArgumentException(output + " has " + outputs + " values but the targets of " + data.name()
                    + " have " + data.targetSize());
        }
    }

    private CompiledModelsByBatch run(Dataset data) {
        if (run == null || run.targetSize != data.targetSize()) {
            if (run != null) run.close();
            run = new CompiledModelsByBatch(graph, store, spec.batch(), data.targetSize(), false);
        }
        return run;
    }

    /** One pass over {@code data} in the seeded order of {@code epoch} (counted from 1). */
    public EpochStats trainEpoch(Dataset data, int epoch, TrainingListener listener) {
        return trainEpoch(data, epoch, 0, listener);
    }

    /**
     * The rest of {@code epoch} from sample {@code firstSample} of its seeded order (0: the whole
     * epoch; otherwise where a checkpoint written inside the epoch stopped, a batch boundary).
     * The statistics cover the samples trained by this call. Returns early, after a whole step,
     * when {@link #requestStop()} is called; see {@link #stoppedAfter()}.
     */
    public EpochStats trainEpoch(Dataset data, int epoch, int firstSample, TrainingListener listener) {
        checkCompatible(graph, data, loss);
        if (firstSample < 0 || firstSample >= Math.max(1, data.size())) {
            throw new IllegalArgumentException("epoch " + epoch + " cannot start at sample " + firstSample + " of " + data.size());
        }
        stoppedAfter = -1;
        applySchedule(epoch);
        CompiledModelsByBatch r = run(data);
        int n = data.size();
        if (epochOrder == null || epochOrder.size() != n) {
            epochOrder = new EpochOrder(spec.seed(), n);
            order = new int[n];
        }
        epochOrder.fill(epoch, order);
        long start = System.nanoTime();
        double lossSum = 0;
        long correct = 0;
        int batch = spec.batch();
        int trained = 0;
        for (int from = firstSample; from < n; from += batch) {
            int count = Math.min(batch, n - from);
            int rows = count * r.targetSize;
            CompiledModel m = r.load(data, order, from, count);
            step++;
            if (stepGradientSums != null) m.stepGradientProbes().values().forEach(p -> p.recordStepGradients(true));   // no-op once on
            m.forward(true, CounterRandom.mix(spec.seed() + step));
            double batchLoss = loss.compute(m.output(), r.targets(count), m.gradOutput(), rows);
            if (!Double.isFinite(batchLoss)) {
                String where = m.firstNonFiniteActivation();
                throw new NumericalFaultException("the loss became " + batchLoss + " at step " + step + " (epoch " + epoch + "): "
                        + (where != null ? where : "every activation is finite; the loss itself overflowed"));
            }
            lossSum += batchLoss;
            if (loss.classification()) correct += r.correct(m, count);
            m.backward();
            if (stepGradientSums != null) accumulateStepGradients(m);
            lastGradientNorm = Math.sqrt(store.gradientSquaredNorm());
            if (!Double.isFinite(lastGradientNorm)) {
                String where = m.firstNonFiniteGradient();
                throw new NumericalFaultException("a gradient became non-finite at step " + step + " (epoch " + epoch + "): "
                        + (where != null ? where : "the gradient norm overflowed") + "; the weights were not updated");
            }
            store.clipGradients(spec.clipNorm(), lastGradientNorm);
            optimizer.step(step);
            int done = from + count;
            trained += count;
            listener.batchDone(epoch, done, n, lossSum / ((long) trained * r.targetSize),
                    loss.classification() ? (double) correct / ((long) trained * r.targetSize) : Double.NaN);
            if (stopRequested && done < n) {
                stoppedAfter = done;
                break;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long rows = (long) Math.max(1, trained) * r.targetSize;
        return new EpochStats(epoch, lossSum / rows, loss.classification() ? (double) correct / rows : Double.NaN, trained, seconds);
    }

    /** Mean loss and accuracy over {@code data} in evaluation mode (no dropout, no updates). */
    public EpochStats evaluate(Dataset data, int epoch) {
        checkCompatible(graph, data, loss);
        return Evaluator.evaluate(run(data), loss, data, epoch, spec.batch());
    }

    @Override public void close() {
        if (run != null) run.close();
    }
}
