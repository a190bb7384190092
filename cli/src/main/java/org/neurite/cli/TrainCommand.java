package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.neurite.cli.plot.ConfusionChart;
import org.neurite.cli.plot.EpochCurves;
import org.neurite.cli.plot.GradientNormChart;
import org.neurite.cli.viz.PngFiles;
import org.neurite.data.Dataset;
import org.neurite.dsl.GraphDot;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.EpochStats;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.graph.TypedGraph;
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
 * output folder the weights ({@code model.safetensors} and {@code checkpoint.safetensors}, after
 * every epoch), the metrics log ({@code metrics.jsonl}), the loss and accuracy plots (redrawn after
 * every epoch), the confusion matrix of a classifier and the gradient-norm plot of
 * {@code --grad-norms} (at the end), and what {@code nn report} needs to describe the run: the
 * script, its summary with the memory estimate, its graph ({@code graph.dot}), the command line
 * ({@code command.txt}) and the resolved deployment ({@code deployment.yaml}). Progress goes to
 * standard output as a live bar on a terminal, plain lines elsewhere, or JSON events
 * ({@link OutputMode}).
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

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in DIR from its checkpoint.safetensors (same script, same seed)")
    Path resume;

    @Option(names = "--init", paramLabel = "FILE", description = "start from these weights (safetensors, e.g. a PyTorch state_dict saved with safetensors)")
    Path init;

    @Option(names = "--all", description = "train every model of the script that has a train section, one after another, and compare them")
    boolean all;

    @Option(names = "--grad-norms", description = "record ||dL/dh_t|| of every recurrent layer per time step into grad_norms.csv and grad_norms.png")
    boolean gradNorms;

    @Option(names = {"-q", "--quiet"}, description = "print only the final result line")
    boolean quiet;

    @Option(names = "--json", description = "print machine-readable events (start, epoch, done), one JSON object per line")
    boolean json;

    /** The outcome of training one model. */
    record Outcome(String model, EpochStats train, EpochStats test, double seconds, Map<String, double[]> stepGradients) {}

    @Override public Integer call() throws Exception {
        OutputMode mode = OutputMode.choose(quiet, json);
        PngFiles.headless();
        Session session = Session.open(options, true);
        PrintWriter out = spec.commandLine().getOut();
        TrainReporter reporter = new TrainReporter(out, mode);
        List<TypedGraph> models = all ? session.script().models().stream()
                .filter(g -> session.script().training(g.graph().name()).isPresent()).toList() : List.of(session.graph());
        if (models.isEmpty()) throw new BadInputException(options.script + " has no train section");
        if (resume != null && (all || this.out != null)) throw new BadInputException("--resume continues one run in its own folder; it does not combine with --all or --out");
        List<Outcome> outcomes = new ArrayList<>();
        for (TypedGraph graph : models) {
            Path base = this.out != null ? this.out : Path.of("runs");
            Path dir = resume != null ? resume : this.out != null && !all ? this.out : base.resolve(graph.graph().name());
            try {
                outcomes.add(train(session, graph, dir, reporter));
            } catch (Interruption.Stopped stopped) {
                out.flush();
                spec.commandLine().getErr().println(stopped.getMessage().replace("<script>", options.script.toString()));
                return ExitCodes.INTERRUPTED;
            }
        }
        if (outcomes.size() > 1) {
            StringBuilder table = new StringBuilder(String.format("%nComparison:%n"));
            for (Outcome o : outcomes) {
                table.append(String.format(Locale.ROOT, "  %-16s %s%s%n", o.model(), result(o.train(), o.test()), gradientSummary(o.stepGradients())));
            }
            reporter.comparison(table.toString());
        }
        out.flush();
        return ExitCodes.OK;
    }

    private Outcome train(Session session, TypedGraph graph, Path dir, TrainReporter reporter) throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        String model = graph.graph().name();
        TrainSpec train = overridden(session.trainSpec(graph));
        DistributedTraining distributed = distributed(session);
        Path dataDir = this.data;
        if (distributed != null && dataDir == null) {
            Path fetched = distributed.dataFolder(session.deployment());   // spark.data: a Hadoop URI copied here
            if (fetched != null) dataDir = fetched;
        }
        Session.Data data = session.datasets(train, dataDir, limit);
        if (data.note() != null) err.println("nn: " + data.note());
        Trainer.checkCompatible(graph, data.train(), org.neurite.engine.Loss.byName(train.loss()));

        String scriptHash = Session.sha256(session.script().source());
        Files.createDirectories(dir);
        recordRun(session, graph, train, dir);
        StringBuilder gradientCsv = new StringBuilder("epoch,node,t,grad_norm\n");
        SortedMap<Integer, Map<String, double[]>> gradientsByEpoch = new TreeMap<>();

        Map<String, Object> header = new LinkedHashMap<>();
        header.put("dataset", data.train().name());
        header.put("train_samples", data.train().size());
        header.put("test_samples", data.test().size());
        header.put("optimizer", train.optimizer().name());
        if (!train.schedule().isConstant()) header.put("schedule", train.schedule().toString());
        header.put("batch", train.batch());
        header.put("epochs", train.epochs());
        header.put("backend", session.backend().description());
        header.put("run", dir.toString());
        reporter.started(model, String.format(Locale.ROOT, "Training %s on %s (%,d train / %,d test samples) with %s, batch %d, %d epochs, %s",
                model, data.train().name(), data.train().size(), data.test().size(),
                optimizerText(train), train.batch(), train.epochs(), session.backend().description()), header);
        long start = System.nanoTime();
        EpochStats last = null;
        EpochStats lastTest = null;
        Map<String, double[]> lastGradients = Map.of();
        List<EpochCurves.Point> history = new ArrayList<>();
        List<Path> plots = new ArrayList<>();
        try (ParameterStore store = new ParameterStore(graph, session.backend(), train.seed());
             Trainer trainer = new Trainer(graph, store, train);
             DistributedTraining.Run remote = distributed == null ? null : distributed.open(new DistributedTraining.Job(
                     session.script().source(), session.script().file(), model, graph, train, session.deployment(),
                     session.backend().name(), options.threads != null ? options.threads : session.deployment().threads(),
                     pluginFolders(session), dataDir != null ? dataDir : session.deployment().data(), limit, trainer, store,
                     (epoch, samples, step) -> Checkpoints.saveCheckpoint(dir.resolve("checkpoint.safetensors"), store,
                             new Checkpoints.Position(model, scriptHash, train.seed(), epoch - 1, step, samples),
                             session.script().source(), Map.of())));
             Interruption sigint = Interruption.onSigint(() -> {
                 trainer.requestStop();
                 if (remote != null) remote.requestStop();
             }, err)) {
            if (remote != null) reporter.note(model, "Training on " + remote.description());
            int firstEpoch = 1;
            int firstSample = 0;   // inside firstEpoch, when the checkpoint was written by Ctrl-C
            if (init != null) Checkpoints.loadWeights(init, store);
            if (resume != null) {
                Path file = dir.resolve("checkpoint.safetensors");
                var contents = Checkpoints.read(file);
                Checkpoints.Position at = Checkpoints.position(file, contents);
                if (!at.scriptHash().equals(scriptHash) || !at.model().equals(graph.graph().name())) {
                    throw new BadInputException(dir.resolve("checkpoint.safetensors") + " was written by another script or model ("
                            + at.model() + "); resume with the script that started the run (" + dir.resolve("model.nn") + ")");
                }
                if (at.seed() != train.seed()) {
                    throw new BadInputException("the run in " + dir + " used seed " + at.seed() + ", not " + train.seed() + "; resume with --seed " + at.seed());
                }
                if (at.epoch() >= train.epochs()) {
                    throw new BadInputException("the run in " + dir + " already finished epoch " + at.epoch() + " of " + train.epochs()
                            + "; ask for more with --epochs N");
                }
                Checkpoints.restore(file, contents, store);
                trainer.setStep(at.step());
                firstEpoch = at.epoch() + 1;
                firstSample = at.epochSamples();
                reporter.resumed(model, String.format(Locale.ROOT, "Resuming %s at epoch %d (step %d) from %s", model, firstEpoch, at.step(), dir),
                        firstEpoch, at.step());
                history.addAll(MetricsHistory.points(dir.resolve("metrics.jsonl"), firstEpoch - 1));
            }
            MetricsLog metrics = resume != null ? MetricsLog.resume(dir.resolve("metrics.jsonl"), firstEpoch - 1)
                    : new MetricsLog(dir.resolve("metrics.jsonl"));
            if (gradNorms) trainer.recordStepGradients();
            for (int epoch = firstEpoch; epoch <= train.epochs(); epoch++) {
                EpochStats stats;
                try (TrainReporter.EpochBar bar = reporter.epochBar(epoch, train.epochs(), data.train().size())) {
                    int from = epoch == firstEpoch ? firstSample : 0;
                    stats = remote != null ? remote.trainEpoch(data.train(), epoch, from, bar) : trainer.trainEpoch(data.train(), epoch, from, bar);
                }
                int stoppedAfter = remote != null ? remote.stoppedAfter() : trainer.stoppedAfter();
                if (stoppedAfter >= 0) {
                    throw Interruption.checkpoint(dir, store, new Checkpoints.Position(model, scriptHash, train.seed(), epoch - 1,
                            trainer.step(), stoppedAfter), session.script().source());
                }
                EpochStats test = trainer.evaluate(data.test(), epoch);
                if (gradNorms) {
                    lastGradients = trainer.takeStepGradientNorms();
                    if (!lastGradients.isEmpty()) gradientsByEpoch.put(epoch, lastGradients);
                    for (var e : lastGradients.entrySet()) {
                        double[] norms = e.getValue();
                        for (int t = 0; t < norms.length; t++) {
                            gradientCsv.append(epoch).append(',').append(e.getKey()).append(',').append(t).append(',')
                                    .append(String.format(Locale.ROOT, "%.6e", norms[t])).append('\n');
                        }
                    }
                    AtomicFiles.writeString(dir.resolve("grad_norms.csv"), gradientCsv.toString());
                }
                Map<String, Object> record = new LinkedHashMap<>();
                record.put("epoch", epoch);
                record.put("step", trainer.step());
                record.put("train_loss", stats.loss());
                if (!Double.isNaN(stats.accuracy())) record.put("train_accuracy", stats.accuracy());
                record.put("test_loss", test.loss());
                if (!Double.isNaN(test.accuracy())) record.put("test_accuracy", test.accuracy());
                record.put("samples_per_second", stats.samplesPerSecond());
                record.put("epoch_seconds", stats.seconds());
                // The rate the epoch ran at, as the optimiser held it (only when a schedule changes it).
                float lr = train.schedule().isConstant() ? Float.NaN : trainer.optimizer().learningRate();
                if (!Float.isNaN(lr)) record.put("lr", Double.parseDouble(Float.toString(lr)));   // 0.01, not 0.009999999776
                record.put("time", Instant.now().toString());
                metrics.append(record);
                reporter.epoch(model, train.epochs(), stats, test, lr, record, gradNorms ? lastGradients : Map.of());
                history.add(new EpochCurves.Point(epoch, stats.loss(), test.loss(), stats.accuracy(), test.accuracy()));
                plots = EpochCurves.write(dir, model, train.loss(), history, train.epochs());
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put(Checkpoints.MODEL, graph.graph().name());
                meta.put(Checkpoints.SCRIPT_HASH, scriptHash);
                meta.put(Checkpoints.EPOCH, Integer.toString(epoch));
                meta.put(Checkpoints.STEP, Integer.toString(trainer.step()));
                meta.put("neurite.test_loss", Double.toString(test.loss()));
                if (!Double.isNaN(test.accuracy())) meta.put("neurite.test_accuracy", Double.toString(test.accuracy()));
                Checkpoints.saveWeights(dir.resolve("model.safetensors"), store, meta);
                Checkpoints.saveCheckpoint(dir.resolve("checkpoint.safetensors"), store,
                        new Checkpoints.Position(graph.graph().name(), scriptHash, train.seed(), epoch, trainer.step()),
                        session.script().source(), Map.of());
                last = stats;
                lastTest = test;
            }
            if (data.test().isClassification()) {
                int classes = ConfusionCounts.classes(graph, data.test());
                if (classes <= ConfusionChart.MAX_CLASSES) {
                    int[][] counts;
                    try (LiveBar bar = LiveBar.open(reporter.out(), reporter.mode() == OutputMode.BAR, "confusion", data.test().size(), "samples")) {
                        counts = ConfusionCounts.count(graph, store, data.test(), train.batch(), bar);
                    }
                    Path confusion = dir.resolve("confusion.png");
                    PngFiles.write(ConfusionChart.render(model, counts, data.test().classNames()), confusion);
                    plots.add(confusion);
                } else {
                    reporter.note(model, "No confusion matrix: " + classes + " classes are more than " + ConfusionChart.MAX_CLASSES
                            + " a picture can show legibly.");
                }
            }
        }
        if (!gradientsByEpoch.isEmpty()) {
            Path picture = dir.resolve("grad_norms.png");
            PngFiles.write(GradientNormChart.render(model, gradientsByEpoch), picture);
            plots.add(picture);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Object> done = new LinkedHashMap<>();
        done.put("seconds", seconds);
        done.put("train_loss", last.loss());
        if (!Double.isNaN(last.accuracy())) done.put("train_accuracy", last.accuracy());
        done.put("test_loss", lastTest.loss());
        if (!Double.isNaN(lastTest.accuracy())) done.put("test_accuracy", lastTest.accuracy());
        done.put("run", dir.toString());
        done.put("weights", dir.resolve("model.safetensors").toString());
        done.put("metrics", dir.resolve("metrics.jsonl").toString());
        done.put("plots", plots.stream().map(Path::toString).toList());
        if (gradNorms) done.put("grad_norms", dir.resolve("grad_norms.csv").toString());
        reporter.done(model, String.format(Locale.ROOT, "Done in %.1fs: %s. Weights: %s  Metrics: %s",
                seconds, result(last, lastTest), dir.resolve("model.safetensors"), dir.resolve("metrics.jsonl")), done);
        if (gradNorms) reporter.note(model, "Gradient norms per time step: " + dir.resolve("grad_norms.csv"));
        reporter.note(model, "Plots: " + String.join(", ", plots.stream().map(p -> p.getFileName().toString()).toList())
                + " in " + dir + "; a page with everything: nn report " + RunProvenance.quote(dir.toString()));
        return new Outcome(model, last, lastTest, seconds, lastGradients);
    }

    /**
     * Writes what describes the run before it starts: the script, its summary with the memory
     * estimate at the run's batch size, the graph as DOT, the command line and the deployment.
     */
    private void recordRun(Session session, TypedGraph graph, TrainSpec train, Path dir) throws java.io.IOException {
        String model = graph.graph().name();
        AtomicFiles.writeString(dir.resolve("model.nn"), session.script().source());
        AtomicFiles.writeString(dir.resolve("summary.txt"), SummaryCommand.render(graph, session.script().file()) + "\n"
                + MemoryEstimate.of(graph, train.batch(), train.optimizer().name()).render());
        AtomicFiles.writeString(dir.resolve("graph.dot"), GraphDot.render(graph, session.script().blockCalls(model)));
        AtomicFiles.writeString(dir.resolve("command.txt"), RunProvenance.command(spec.commandLine().getParseResult().originalArgs()));
        AtomicFiles.writeString(dir.resolve("deployment.yaml"), RunProvenance.deployment(session.deployment(), options, data,
                session.backend().name(), session.backend().description()));
    }

    private static String result(EpochStats train, EpochStats test) {
        return Double.isNaN(test.accuracy())
                ? String.format(Locale.ROOT, "test loss %.4f (train %.4f)", test.loss(), train.loss())
                : String.format(Locale.ROOT, "test accuracy %.2f%% (train %.2f%%)", 100 * test.accuracy(), 100 * train.accuracy());
    }

    /** ‖dL/dh_t‖ at the first, middle and last step, and how far the first is below the last. */
    static String describeNorms(double[] norms) {
        int n = norms.length;
        double ratio = norms[0] / norms[n - 1];
        return String.format(Locale.ROOT, "||dL/dh_t|| t=0: %.3e  t=%d: %.3e  t=%d: %.3e  (first/last %.1e)",
                norms[0], n / 2, norms[n / 2], n - 1, norms[n - 1], ratio);
    }

    private static String gradientSummary(Map<String, double[]> gradients) {
        StringBuilder sb = new StringBuilder();
        gradients.forEach((node, norms) -> sb.append(String.format(Locale.ROOT, "  %s ||dL/dh_0||/||dL/dh_T-1|| = %.1e",
                node, norms[0] / norms[norms.length - 1])));
        return sb.toString();
    }

    /** "sgd", or with a schedule that changes the rate "sgd, lr schedule cosine(min_lr=0)". */
    static String optimizerText(TrainSpec train) {
        return train.optimizer().name() + (train.schedule().isConstant() ? "" : ", lr schedule " + train.schedule());
    }

    /**
     * One line per epoch; accuracy only for classifiers; the epoch's learning rate at the end
     * unless {@code lr} is NaN (a constant schedule: the line is as it always was).
     */
    static String epochLine(int epoch, int epochs, EpochStats train, EpochStats test, float lr) {
        String line = epochLine(epoch, epochs, train, test);
        return Float.isNaN(lr) ? line : line + "  |  lr " + learningRate(lr);
    }

    /** A learning rate to four significant digits: {@code 0.01}, {@code 0.009045}, {@code 2.447e-05}. */
    static String learningRate(float lr) {
        if (lr != 0 && Math.abs(lr) < 1e-4) return String.format(Locale.ROOT, "%.3e", lr);
        return new java.math.BigDecimal(Float.toString(lr)).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
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

    /**
     * The cluster engine a deployment's {@code spark:} section asks for, or null to train here.
     *
     * @throws BadInputException when the deployment asks for Spark and the Spark module is not on
     *     the class path, saying how to run it
     */
    private DistributedTraining distributed(Session session) {
        if (session.deployment().spark() == null) return null;
        return DistributedTraining.find("spark").orElseThrow(() -> new BadInputException("the deployment " + options.deployment
                + " asks for Spark (its spark: section), but the Spark module is not on the class path. Run it through the"
                + " launcher, which builds distributed-spark (mvn -Pspark) and adds Spark when the deployment has a spark: section"
                + " (or NEURITE_SPARK=1 is set): ./nn train " + options.script + " --deploy " + options.deployment
                + "; on a cluster use spark-submit with the Neurite jars (README, 'Training on Spark')"));
    }

    /** Plugin folders of the deployment and of --plugins, as workers must load them too. */
    private List<Path> pluginFolders(Session session) {
        List<Path> folders = new ArrayList<>(session.deployment().plugins());
        options.plugins.folders.forEach(f -> folders.add(f.toAbsolutePath().normalize()));
        return folders;
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
