package org.neurite.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.Evaluation;
import org.neurite.engine.Evaluator;
import org.neurite.engine.Loss;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingListener;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn eval MODEL.nn --weights FILE}: loss on the test split and, for a classifier, accuracy,
 * top-5 accuracy (more than five classes) and per-class precision, recall and F1
 * ({@link EvaluationReport}), with a live progress bar on a terminal; {@code --json} prints the
 * same as one JSON document.
 */
@Command(name = "eval", description = "Evaluate trained weights on the dataset's test split.")
final class EvalCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Mixin JsonOutput json = new JsonOutput();
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
        MemoryCheck.beforeInference(session.backend(), session.graph(), batch, data.test().size(), false);
        String model = session.graph().graph().name();
        Trainers trainers = Trainers.of(session.runtime());
        Loss loss = trainers.loss(train);
        try (ParameterStore store = new ParameterStore(session.graph(), session.backend(), train.seed());
             Evaluator evaluator = new Evaluator(session.graph(), store, loss, batch, trainers.metrics(loss.classification()))) {
            Checkpoints.loadWeights(weights, store);
            Evaluation test;
            try (LiveBar bar = LiveBar.open(out, !json.enabled() && OutputMode.interactive(), "eval", data.test().size(), "samples")) {
                test = evaluator.evaluate(data.test(), new TrainingListener() {
                    @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                        bar.update(done, String.format(Locale.ROOT, "loss %.4f", meanLoss));
                    }
                });
            }
            if (json.enabled()) {
                ObjectNode doc = JsonOutput.object().put("model", model).put("dataset", data.test().name());
                doc.setAll(EvaluationReport.json("test", test, data.test().classNames()));
                JsonOutput.print(spec, doc);
                return ExitCodes.OK;
            }
            out.printf(Locale.ROOT, "%s on %s test split (%,d samples): loss %.4f%s%s%s%n", model, data.test().name(), test.samples(),
                    test.loss(), Double.isNaN(test.accuracy()) ? "" : String.format(Locale.ROOT, "  accuracy %.2f%%", 100 * test.accuracy()),
                    Double.isNaN(test.top5()) ? "" : String.format(Locale.ROOT, "  top-5 %.2f%%", 100 * test.top5()),
                    pluginMetrics(test));
            out.print(EvaluationReport.table(test, data.test().classNames()));
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** {@code "  mae 0.1234"} for every metric measured besides the core's accuracy (a plugin's), when defined. */
    private static String pluginMetrics(Evaluation e) {
        StringBuilder text = new StringBuilder();
        e.metrics().forEach((name, value) -> {
            if (!name.equals("accuracy") && !Double.isNaN(value)) text.append(String.format(Locale.ROOT, "  %s %.4f", name, value));
        });
        return text.toString();
    }
}
