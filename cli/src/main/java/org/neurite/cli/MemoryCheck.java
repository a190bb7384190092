package org.neurite.cli;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import org.neurite.backend.Backend;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.engine.MemoryPlan;
import org.neurite.engine.MemoryPlanner;
import org.neurite.engine.Predictor;
import org.neurite.engine.TrainStep;
import org.neurite.engine.Trainers;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * The check {@code nn train}, {@code nn eval} and {@code nn predict} make before they allocate a
 * model: the engine's {@link MemoryPlan} at the run's batch size against what the backend can
 * still give. A model that does not fit is refused with an {@link OutOfMemoryException} (exit 2)
 * whose message has the plan's numbers, what is available, the largest batch that fits and, on
 * the Java heap, the {@code -Xmx} to run with; nothing has been allocated or written by then.
 *
 * <p>On the heap the budget is {@code -Xmx} less what is in use (the dataset, once loaded) less a
 * spare share ({@link #spare}) for what the plan does not count: the backend's scratch, the host's
 * batch buffers, checkpoint copies, the garbage collector's room. A device backend's budget is
 * what it reports available.
 */
final class MemoryCheck {
    /** The share of the heap kept out of the budget, and its floor. */
    static final double SPARE_SHARE = 0.10;
    static final long SPARE_FLOOR = 64L << 20;

    private MemoryCheck() {}

    /**
     * Before training {@code graph} as {@code spec} says on {@code backend}, over {@code data}; a
     * classifier's test split is also run forward at the end for the confusion matrix, while the
     * training models are still allocated ({@link RunOutput}).
     */
    static void beforeTraining(Backend backend, TypedGraph graph, TrainSpec spec, Trainers trainers, Session.Data data) {
        MemoryPlanner planner = data.test() == null ? MemoryPlanner.training(graph, spec, trainers, data.train().size())
                : MemoryPlanner.training(graph, spec, trainers, data.train().size(), data.test().size());
        if (data.test() != null && data.test().isClassification()) planner.thenForward(data.test().size());
        planner.inShards(b -> TrainStep.runsInShards(graph, backend, b)).forwardInShards(Predictor.runsInShards(graph, backend));
        require(planner, spec.batch(), backend, "training");
    }

    /**
     * Before evaluating ({@code predictor} false: {@link org.neurite.engine.Evaluator}'s whole
     * batches) or predicting ({@link Predictor}, which may run in shards) with {@code graph} at
     * {@code batch} over {@code samples} inputs.
     */
    static void beforeInference(Backend backend, TypedGraph graph, int batch, int samples, boolean predictor) {
        MemoryPlanner planner = MemoryPlanner.inference(graph, samples).forwardInShards(predictor && Predictor.runsInShards(graph, backend));
        require(planner, batch, backend, "inference");
    }

    private static void require(MemoryPlanner planner, int batch, Backend backend, String what) {
        MemoryPlan plan = planner.plan(batch);
        boolean heap = backend.memoryReport().isEmpty();
        long budget = heap ? heapBudget() : backend.memoryAvailable();
        if (plan.fitsIn(budget)) return;
        if (heap) {
            System.gc(); // what is in use may be garbage from reading the script and the data: count only what is live
            budget = heapBudget();
            if (plan.fitsIn(budget)) return;
        }
        throw new OutOfMemoryException(message(planner, plan, what, heap, budget, backend));
    }

    /** Bytes the heap can give: -Xmx less what is in use less the spare share. */
    static long heapBudget() {
        Runtime rt = Runtime.getRuntime();
        return Math.max(0, rt.maxMemory() - inUse() - spare(rt.maxMemory()));
    }

    private static long inUse() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** The part of a heap of {@code max} bytes kept out of the budget. */
    static long spare(long max) {
        return Math.max(SPARE_FLOOR, (long) (max * SPARE_SHARE));
    }

    /** The refusal: the verdict with the amounts, what was counted, the largest batch that fits, and on the heap the -Xmx to use. */
    private static String message(MemoryPlanner planner, MemoryPlan plan, String what, boolean heap, long budget, Backend backend) {
        StringBuilder m = new StringBuilder();
        m.append(String.format(Locale.ROOT, "model %s does not fit in memory: %s at batch %d needs %s", plan.model(), what, plan.batch(),
                MemoryEstimate.bytes(plan.total())));
        if (plan.tooLarge() != null) m.append(" and a tensor of more than 2^31-1 elements (").append(plan.tooLarge()).append(')');
        if (heap) {
            long max = Runtime.getRuntime().maxMemory();
            m.append(String.format(Locale.ROOT, ", and the Java heap can give %s (-Xmx %s, less %s in use and %s kept spare)",
                    MemoryEstimate.bytes(budget), MemoryEstimate.bytes(max), MemoryEstimate.bytes(inUse()), MemoryEstimate.bytes(spare(max))));
        } else {
            m.append(String.format(Locale.ROOT, ", and backend %s has %s available (%s)", backend.name(), MemoryEstimate.bytes(budget),
                    backend.memoryReport()));
        }
        m.append(String.format(Locale.ROOT, "%n  counted: parameters %s, parameter gradients %s", MemoryEstimate.bytes(plan.parameters()),
                MemoryEstimate.bytes(plan.parameterGradients())));
        if (plan.training()) m.append(", ").append(plan.optimizer()).append(" state ").append(MemoryEstimate.bytes(plan.optimizerState()));
        m.append(String.format(Locale.ROOT, ", activations %s, activation gradients %s, layer state %s (compiled at batch %s%s%s)",
                MemoryEstimate.bytes(plan.activations()), MemoryEstimate.bytes(plan.activationGradients()),
                MemoryEstimate.bytes(plan.layerState()), sizes(plan.compiledBatches()),
                plan.secondShardBatches().isEmpty() ? ""
                        : ", for the second shard" + (plan.training() ? " of each step" : "") + " at " + sizes(plan.secondShardBatches()),
                plan.forwardBatches().isEmpty() ? "" : ", and forward only at " + sizes(plan.forwardBatches())));
        int fits = planner.largestBatch(budget, plan.batch() - 1);
        if (fits > 0) {
            m.append(String.format(Locale.ROOT, "%n  largest batch that fits: %d (--batch %d)", fits, fits));
        } else if (plan.fixed() > budget) {
            m.append(String.format(Locale.ROOT, "%n  largest batch that fits: none: the parameters%s alone need %s",
                    plan.training() ? ", their gradients and the " + plan.optimizer() + " state" : " and their gradients",
                    MemoryEstimate.bytes(plan.fixed())));
        } else {
            m.append(String.format(Locale.ROOT, "%n  largest batch that fits: none: one sample's activations do not fit"));
        }
        if (heap) m.append(String.format(Locale.ROOT, "%n  %s", heapAdvice(planner, plan)));
        return m.toString();
    }

    /**
     * "64", "64 and 16", "64, 32 and 16": the batch sizes, each once (a predictor in shards
     * compiles a size for each shard), largest first.
     */
    private static String sizes(List<Integer> batches) {
        List<String> words = batches.stream().distinct().sorted(java.util.Comparator.reverseOrder()).map(String::valueOf).toList();
        return words.size() == 1 ? words.get(0)
                : String.join(", ", words.subList(0, words.size() - 1)) + " and " + words.get(words.size() - 1);
    }

    /**
     * The -Xmx that fits the plan (or, when a tensor of it is too large for any heap, the largest
     * batch whose tensors can be allocated) with what is in use now and the spare share, against
     * the machine's memory.
     */
    private static String heapAdvice(MemoryPlanner planner, MemoryPlan plan) {
        String forBatch = "";
        if (plan.tooLarge() != null) {
            int allocatable = planner.largestBatch(Long.MAX_VALUE, plan.batch() - 1);
            if (allocatable == 0) return "no heap holds a tensor of more than 2^31-1 elements: use a smaller model";
            plan = planner.plan(allocatable);
            forBatch = " for batch " + allocatable + ", the largest whose tensors can be allocated";
        }
        long total = plan.total() + inUse();
        // The smallest heap h with h - inUse - spare(h) >= plan: the spare share is a tenth of h above its floor.
        long needed = Math.max(total + SPARE_FLOOR, (long) Math.ceil(total / (1 - SPARE_SHARE)));
        String xmx = needed > 1L << 30 ? ceilDiv(needed, 1L << 30) + "g" : 64 * ceilDiv(needed, 64L << 20) + "m";
        String advice = "or give Java more heap: NEURITE_JAVA_OPTS=-Xmx" + xmx + forBatch;
        long machine = machineMemory();
        if (machine <= 0) return advice;
        return advice + " (this machine has " + MemoryEstimate.bytes(machine)
                + (needed > machine ? ", less than that: use a smaller batch or model)" : ")");
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** The machine's (or container's) memory, or 0 when the JVM cannot say. */
    static long machineMemory() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getTotalMemorySize();
        }
        return 0;
    }
}
