package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.neurite.data.Dataset;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.EpochStats;
import org.neurite.engine.Evaluator;
import org.neurite.engine.ParameterStore;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn eval MODEL.nn --weights FILE}: loss and accuracy on the test split, with a live
 * progress bar on a terminal. The split is evaluated in chunks of whole batches (so the batches,
 * and the result, are the same as in one pass) and the chunks' sums are combined.
 */
@Command(name = "eval", description = "Evaluate trained weights on the dataset's test split.")
final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "weights (.safetensors) written by nn train")
    Path weights;

    @Option(names = "--data", paramLabel = "DIR", description = "folder with the dataset's IDX files")
    Path data;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256", description = "evaluation batch size (default 256)")
    int batch;

    @Override public Integer call() throws Exception {
        if (batch < 1) throw new BadInputException("--batch must be at least 1, got " + batch);
        Session session = Session.open(options, true);
        PrintWriter out = spec.commandLine().getOut();
        TrainSpec train = session.trainSpec();
        Session.Data data = session.datasets(train, this.data, null);
        if (data.note() != null) spec.commandLine().getErr().println("nn: " + data.note());
        try (ParameterStore store = new ParameterStore(session.graph(), session.backend(), train.seed());
             Evaluator evaluator = new Evaluator(session.graph(), store, train.loss(), batch)) {
            Checkpoints.loadWeights(weights, store);
            EpochStats test;
            try (LiveBar bar = LiveBar.open(out, OutputMode.interactive(), "eval", data.test().size(), "samples")) {
                test = evaluate(evaluator, data.test(), batch, bar);
            }
            out.printf(Locale.ROOT, "%s on %s test split (%,d samples): loss %.4f%s%n",
                    session.graph().graph().name(), data.test().name(), test.samples(), test.loss(),
                    Double.isNaN(test.accuracy()) ? "" : String.format(Locale.ROOT, "  accuracy %.2f%%", 100 * test.accuracy()));
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** Loss and accuracy over {@code data}, a chunk of whole batches at a time, moving {@code bar} after each. */
    static EpochStats evaluate(Evaluator evaluator, Dataset data, int batch, LiveBar bar) {
        int n = data.size();
        int chunk = batch * Math.max(1, 2048 / batch);
        double lossSum = 0;
        long correct = 0;
        long rows = 0;
        long start = System.nanoTime();
        for (int from = 0; from < n; from += chunk) {
            int count = Math.min(chunk, n - from);
            EpochStats part = evaluator.evaluate(slice(data, from, count));
            long partRows = (long) count * data.targetSize();
            // The evaluator returns means over its rows; back to sums so the chunks combine exactly.
            lossSum += part.loss() * partRows;
            if (!Double.isNaN(part.accuracy())) correct += Math.round(part.accuracy() * partRows);
            rows += partRows;
            bar.update(from + count, String.format(Locale.ROOT, "loss %.4f", lossSum / rows));
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new EpochStats(0, lossSum / rows, data.isClassification() ? (double) correct / rows : Double.NaN, n, seconds);
    }

    /** Samples {@code [from, from + count)} of {@code data} as a dataset of their own (copies). */
    private static Dataset slice(Dataset data, int from, int count) {
        if (from == 0 && count == data.size()) return data;
        int targets = data.targetSize();
        float[] y = new float[count * targets];
        for (int i = 0; i < count; i++) for (int k = 0; k < targets; k++) y[i * targets + k] = data.target(from + i, k);
        float[] x = Arrays.copyOfRange(data.features(), from * data.sampleSize(), (from + count) * data.sampleSize());
        return new Dataset(data.name(), data.sampleShape(), x, data.targetShape(), y, data.classes(), data.classNames(),
                data.isSubset(), data.description());
    }
}
