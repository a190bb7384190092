package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
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

/** {@code nn eval MODEL.nn --weights FILE}: loss and accuracy on the test split. */
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
            EpochStats test = evaluator.evaluate(data.test());
            out.printf(Locale.ROOT, "%s on %s test split (%,d samples): loss %.4f%s%n",
                    session.graph().graph().name(), data.test().name(), test.samples(), test.loss(),
                    Double.isNaN(test.accuracy()) ? "" : String.format(Locale.ROOT, "  accuracy %.2f%%", 100 * test.accuracy()));
        }
        out.flush();
        return ExitCodes.OK;
    }
}
