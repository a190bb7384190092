package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.neurite.data.Dataset;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.io.AtomicFiles;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn train MODEL.nn}: trains the model as its {@code train} section says (command-line
 * options override it), evaluates on the test split after every epoch, and writes into the
 * output folder the weights ({@code model.safetensors}, after every epoch), the metrics log
 * ({@code metrics.jsonl}), the script and its summary.
 */
@Command(name = "train", description = "Train a model on its dataset; writes weights and a metrics log.")
final class TrainCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = "--epochs", paramLabel = "N", description = "number of epochs (default: the script's)")
    Integer epochs;

    @Option(names = "--batch", paramLabel = "N", description = "batch size (default: the script's)")
    Integer batch;

    @Option(names = "--seed", paramLabel = "N", description = "seed for weights, shuffling and dropout (default: the script's)")
    Long seed;

    @Option(names = "--data", paramLabel = "DIR", description = "folder with the dataset's IDX files")
    Path data;

    @Option(names = "--limit", paramLabel = "N", description = "use only the first N training samples (quick runs)")
    Integer limit;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/<model>)")
    Path out;

    @Override public Integer call() throws Exception {
        Session session = Session.open(options, true);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        TrainSpec train = overridden(session.trainSpec());
        Session.Data data = session.datasets(train, this.data, limit);
        if (data.note() != null) err.println("nn: " + data.note());
        Trainer.checkCompatible(session.graph(), data.train(), org.neurite.engine.Loss.byName(train.loss()));

        Path dir = this.out != null ? this.out : Path.of("runs", session.graph().graph().name());
        Files.createDirectories(dir);
        AtomicFiles.writeString(dir.resolve("model.nn"), session.script().source());
        AtomicFiles.writeString(dir.resolve("summary.txt"), SummaryCommand.render(session.graph(), session.script().file()));
        MetricsLog metrics = new MetricsLog(dir.resolve("metrics.jsonl"));

        out.printf(Locale.ROOT, "Training %s on %s (%,d train / %,d test samples) with %s, batch %d, %d epochs, %s%n",
                session.graph().graph().name(), data.train().name(), data.train().size(), data.test().size(),
                train.optimizer().name(), train.batch(), train.epochs(), session.backend().description());
        out.flush();
        long start = System.nanoTime();
        EpochStats last = null;
        EpochStats lastTest = null;
        try (ParameterStore store = new ParameterStore(session.graph(), session.backend(), train.seed());
             Trainer trainer = new Trainer(session.graph(), store, train)) {
            for (int epoch = 1; epoch <= train.epochs(); epoch++) {
                EpochStats stats = trainer.trainEpoch(data.train(), epoch, org.neurite.engine.TrainingListener.NONE);
                EpochStats test = trainer.evaluate(data.test(), epoch);
                out.println(epochLine(epoch, train.epochs(), stats, test));
                out.flush();
                Map<String, Object> record = new LinkedHashMap<>();
                record.put("epoch", epoch);
                record.put("step", trainer.step());
                record.put("train_loss", stats.loss());
                record.put("train_accuracy", stats.accuracy());
                record.put("test_loss", test.loss());
                record.put("test_accuracy", test.accuracy());
                record.put("samples_per_second", stats.samplesPerSecond());
                record.put("epoch_seconds", stats.seconds());
                record.put("time", Instant.now().toString());
                metrics.append(record);
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("neurite.model", session.graph().graph().name());
                meta.put("neurite.script_sha256", Session.sha256(session.script().source()));
                meta.put("neurite.epoch", Integer.toString(epoch));
                meta.put("neurite.step", Integer.toString(trainer.step()));
                meta.put("neurite.test_accuracy", Double.toString(test.accuracy()));
                Checkpoints.saveWeights(dir.resolve("model.safetensors"), store, meta);
                last = stats;
                lastTest = test;
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String result = Double.isNaN(lastTest.accuracy())
                ? String.format(Locale.ROOT, "test loss %.4f (train %.4f)", lastTest.loss(), last.loss())
                : String.format(Locale.ROOT, "test accuracy %.2f%% (train %.2f%%)", 100 * lastTest.accuracy(), 100 * last.accuracy());
        out.printf(Locale.ROOT, "Done in %.1fs: %s. Weights: %s  Metrics: %s%n",
                seconds, result, dir.resolve("model.safetensors"), dir.resolve("metrics.jsonl"));
        out.flush();
        return ExitCodes.OK;
    }

    /** One line per epoch; accuracy only for classifiers. */
    static String epochLine(int epoch, int epochs, EpochStats train, EpochStats test) {
        if (Double.isNaN(train.accuracy())) {
            return String.format(Locale.ROOT, "epoch %2d/%d  loss %.5f  |  test loss %.5f  |  %,.0f samples/s  %.1fs",
                    epoch, epochs, train.loss(), test.loss(), train.samplesPerSecond(), train.seconds());
        }
        return String.format(Locale.ROOT, "epoch %2d/%d  loss %.4f  acc %6.2f%%  |  test loss %.4f  test acc %6.2f%%  |  %,.0f samples/s  %.1fs",
                epoch, epochs, train.loss(), 100 * train.accuracy(), test.loss(), 100 * test.accuracy(),
                train.samplesPerSecond(), train.seconds());
    }

    private TrainSpec overridden(TrainSpec s) {
        int e = epochs != null ? epochs : s.epochs();
        int b = batch != null ? batch : s.batch();
        long sd = seed != null ? seed : s.seed();
        if (e < 1) throw new BadInputException("--epochs must be at least 1, got " + e);
        if (b < 1) throw new BadInputException("--batch must be at least 1, got " + b);
        if (limit != null && limit < 1) throw new BadInputException("--limit must be at least 1, got " + limit);
        return s.with(b, e, sd);
    }
}
