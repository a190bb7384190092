package org.neurite.spark;

import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.neurite.backend.Backend;
import org.neurite.backend.Slice;
import org.neurite.engine.TrainStep;
import org.neurite.graph.ParamInfo;
import org.neurite.tensor.Tensor;
import scala.Tuple2;

/**
 * What one Spark task computes: worker {@code p} of {@code P} takes the contiguous slice
 * {@code [from + count·p/P, from + count·(p+1)/P)} of a global batch in the epoch's seeded order
 * and returns its part of the gradient. The functions here run on executors; they capture only
 * strings, numbers and Spark broadcasts of {@code float[]}, never a Neurite object.
 *
 * <p>A partial result is a pair: {@code _1} the values summed so far as doubles (gradients of
 * the trainable parameters in declaration order, or for averaging every parameter and optimiser
 * slot), empty for a worker with no rows; {@code _2} {@code [loss sum, correct rows, rows, workers]}.
 * Summing in double makes the total independent of the order in which Spark combines partial
 * results (each float slice gradient is exact in double, and a handful of additions round only
 * at 2⁻⁵³), so a retried or late task cannot change the step.
 */
final class SliceTask {
    private SliceTask() {}

    /** Local property naming a task to fail once, {@code step:partition}; tests use it to stand for a lost executor. */
    static final String FAIL_ONCE = "neurite.spark.fail_once";

    /**
     * Local property naming a task whose gradient turns NaN, {@code step:partition}: after its
     * backward at that step, the first element of the first trainable gradient is set to NaN
     * (on every attempt). Tests use it to stand for a diverging worker.
     */
    static final String POISON_GRADIENT = "neurite.spark.poison_gradient";

    /** Length of a partial result's statistics: loss sum, correct rows, rows, workers that reported. */
    static final int STATS = 4;

    /** An empty partial result: adds nothing. */
    static Tuple2<double[], double[]> zero() {
        return new Tuple2<>(new double[0], new double[4]);
    }

    /** Adds {@code b} into {@code a} (or the other way round when {@code a} is empty); Spark's combine step. */
    static Tuple2<double[], double[]> combine(Tuple2<double[], double[]> a, Tuple2<double[], double[]> b) {
        if (a._1().length == 0) {
            for (int i = 0; i < STATS; i++) b._2()[i] += a._2()[i];
            return b;
        }
        if (b._1().length != 0) {
            double[] x = a._1();
            double[] y = b._1();
            if (x.length != y.length) throw new IllegalStateException("partial results of " + x.length + " and " + y.length + " values");
            for (int i = 0; i < x.length; i++) x[i] += y[i];
        }
        for (int i = 0; i < STATS; i++) a._2()[i] += b._2()[i];
        return a;
    }

    /**
     * The per-partition function of a synchronous step: the element is the partition's index.
     *
     * @param job the encoded {@link WorkerJob}
     * @param weights every parameter's value, flattened in declaration order
     * @param samples the training set size the driver sees (checked against the worker's)
     */
    static Function2<Tuple2<double[], double[]>, Integer, Tuple2<double[], double[]>> gradient(
            String job, Broadcast<float[]> weights, int epoch, int from, int count, int step, int samples) {
        return (acc, partition) -> {
            int partitions = WorkerJob.decode(job).partitions();
            int start = from + (int) ((long) count * partition / partitions);
            int end = from + (int) ((long) count * (partition + 1) / partitions);
            if (end == start) return acc;
            Workers.Replica r = Workers.borrow(job);
            boolean ok = false;
            try {
                checkSize(r, samples);
                load(r, weights.value(), 0);
                TrainStep.Result s = r.step.gradients(r.state.train, r.order(epoch), start, end - start, count, step, epoch);
                poisonIfAsked(r, step, partition);
                failOnceIfAsked(step, partition);   // after the work: a task lost mid-step
                List<ParamInfo> trainable = r.store.trainable();
                double[] grads = new double[size(trainable)];
                int at = 0;
                for (ParamInfo p : trainable) at = addInto(r.backend, r.store.grad(p.fullName()), grads, at);
                ok = true;
                return combine(acc, new Tuple2<>(grads, new double[] {s.lossSum(), s.correct(), s.rows(), 1}));
            } finally {
                if (ok) Workers.release(r); else r.close();
            }
        };
    }

    /**
     * The per-partition function of one round of parameter averaging: starting from the
     * broadcast weights and optimiser slots, the worker takes {@code steps} optimiser steps alone,
     * each on its slice of the next global batch, and returns its final weights and slots.
     *
     * @param state weights then optimiser slots, flattened (the layout of {@link Flat#state})
     */
    static Function2<Tuple2<double[], double[]>, Integer, Tuple2<double[], double[]>> localSteps(
            String job, Broadcast<float[]> state, int epoch, int from, int batch, int steps, int firstStep, int samples) {
        return (acc, partition) -> {
            int partitions = WorkerJob.decode(job).partitions();
            Workers.Replica r = Workers.borrow(job);
            boolean ok = false;
            try {
                checkSize(r, samples);
                float[] values = state.value();
                load(r, values, 0);
                int at = Flat.size(r.store.params());
                for (var slot : r.store.stateTensors().values()) {
                    r.backend.upload(values, at, Slice.of(slot, 0, slot.size()));
                    at += slot.size();
                }
                // The driver's schedule, from the epoch alone: the worker's spec has the run's epochs.
                r.step.optimizer().setLearningRate(r.state.spec.learningRate(epoch));
                double lossSum = 0;
                long correct = 0;
                long rows = 0;
                for (int k = 0; k < steps; k++) {
                    int batchStart = from + k * batch;
                    int count = Math.min(batch, samples - batchStart);
                    int start = batchStart + (int) ((long) count * partition / partitions);
                    int end = batchStart + (int) ((long) count * (partition + 1) / partitions);
                    if (end == start) continue;
                    // The whole step, as the single-machine Trainer takes it: a non-finite gradient stops the run.
                    TrainStep.Result s = r.step.gradients(r.state.train, r.order(epoch), start, end - start, end - start,
                            firstStep + k, epoch);
                    poisonIfAsked(r, firstStep + k, partition);
                    r.step.update(firstStep + k, epoch);
                    lossSum += s.lossSum();
                    correct += s.correct();
                    rows += s.rows();
                }
                failOnceIfAsked(firstStep, partition);
                if (rows == 0) {
                    ok = true;
                    return acc;   // no samples this round (a short last batch): no vote
                }
                double[] out = new double[at];
                int o = 0;
                for (ParamInfo p : r.store.params()) o = addInto(r.backend, r.store.value(p.fullName()), out, o);
                for (var slot : r.store.stateTensors().values()) o = addInto(r.backend, slot, out, o);
                ok = true;
                // One vote per worker: the driver divides the weights by the workers that reported.
                return combine(acc, new Tuple2<>(out, new double[] {lossSum, correct, rows, 1}));
            } finally {
                if (ok) Workers.release(r); else r.close();
            }
        };
    }

    private static void checkSize(Workers.Replica r, int samples) {
        if (r.state.train.size() != samples) {
            throw new IllegalStateException("this worker reads " + r.state.train.size() + " training samples (" + r.state.train.description()
                    + ") but the driver has " + samples + "; give every machine the same data folder (spark.data)");
        }
    }

    private static void load(Workers.Replica r, float[] values, int offset) {
        int at = offset;
        for (ParamInfo p : r.store.params()) {
            Tensor t = r.store.value(p.fullName());
            r.backend.upload(values, at, Slice.of(t, 0, t.size()));
            at += t.size();
        }
    }

    private static int addInto(Backend backend, Tensor t, double[] into, int at) {
        float[] v = backend.download(t);
        for (int i = 0; i < v.length; i++) into[at + i] += v[i];
        return at + v.length;
    }

    private static int size(List<ParamInfo> params) {
        return Flat.size(params);
    }

    /** Writes NaN into the first trainable gradient when {@link #POISON_GRADIENT} names this step and partition. */
    private static void poisonIfAsked(Workers.Replica r, int step, int partition) {
        TaskContext task = TaskContext.get();
        if (task == null) return;
        String target = task.getLocalProperty(POISON_GRADIENT);
        if (target != null && target.equals(step + ":" + partition)) {
            Tensor g = r.store.grad(r.store.trainable().get(0).fullName());
            r.backend.upload(new float[] {Float.NaN}, 0, Slice.of(g, 0, 1));
        }
    }

    /** Throws on the first attempt of the task named by {@link #FAIL_ONCE}, so Spark retries it. */
    private static void failOnceIfAsked(int step, int partition) {
        TaskContext task = TaskContext.get();
        if (task == null) return;
        String target = task.getLocalProperty(FAIL_ONCE);
        if (target != null && target.equals(step + ":" + partition) && task.attemptNumber() == 0) {
            throw new IllegalStateException("injected failure of partition " + partition + " at step " + step
                    + " (first attempt); Spark retries the task");
        }
    }
}
