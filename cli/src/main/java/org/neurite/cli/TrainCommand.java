package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.neurite.cli.viz.PngFiles;
import org.neurite.dsl.GraphDot;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.EpochStats;
import org.neurite.engine.Loss;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingRun;
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
 * options override it) with the engine's {@link TrainingRun}, which evaluates on the test split
 * after every epoch and writes the weights ({@code model.safetensors}, {@code checkpoint.safetensors})
 * and {@code metrics.jsonl}, resumes ({@code --resume}) and stops on Ctrl-C ({@link Interruption}).
 * This command adds what a person reads: progress, plots and the confusion matrix
 * ({@link RunOutput}), and what {@code nn report} needs to describe the run: the script, its
 * summary with the memory estimate, its graph ({@code graph.dot}), the command line
 * ({@code command.txt}) and the resolved deployment ({@code deployment.yaml}). The folder is
 * locked while the run writes and never holds an earlier run unless {@code --overwrite}
 * ({@link RunFolder}).
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

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/<model>, or runs/<model>-2, -3, ... when that holds a run)")
    Path out;

    @Option(names = "--overwrite", description = "write into the --out folder (or runs/<model> itself) even if it holds a run: model.safetensors, checkpoint.safetensors or metrics.jsonl")
    boolean overwrite;

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
        if (resume != null && (all || this.out != null || overwrite)) {
            throw new BadInputException("--resume continues one run in its own folder; it does not combine with --all, --out or --overwrite");
        }
        // runs/<model> gives way to runs/<model>-2, ... when it holds a run; a folder the user named is refused instead.
        RunFolder.Choice choice = resume != null ? RunFolder.Choice.RESUME : overwrite ? RunFolder.Choice.OVERWRITE
                : this.out == null ? RunFolder.Choice.DEFAULT : RunFolder.Choice.NAMED;
        List<Outcome> outcomes = new ArrayList<>();
        for (TypedGraph graph : models) {
            Path base = this.out != null ? this.out : RunFolder.defaultRoot();
            Path dir = resume != null ? resume : this.out != null && !all ? this.out : base.resolve(graph.graph().name());
            try {
                outcomes.add(train(session, graph, dir, choice, reporter));
            } catch (Interruption.Stopped stopped) {
                out.flush();
                spec.commandLine().getErr().println(stopped.getMessage().replace("<script>", options.script.toString()));
                return ExitCodes.INTERRUPTED;
            }
        }
        if (outcomes.size() > 1) {
            StringBuilder table = new StringBuilder(String.format("%nComparison:%n"));
            for (Outcome o : outcomes) {
                table.append(String.format(Locale.ROOT, "  %-16s %s%s%n", o.model(), TrainReporter.result(o.train(), o.test()), TrainReporter.gradientSummary(o.stepGradients())));
            }
            reporter.comparison(table.toString());
        }
        out.flush();
        return ExitCodes.OK;
    }

    private Outcome train(Session session, TypedGraph graph, Path wanted, RunFolder.Choice choice, TrainReporter reporter) throws Exception {
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
        Trainer.checkCompatible(graph, data.train(), Loss.byName(train.loss()));
        try (RunFolder folder = RunFolder.take(wanted, choice, err)) {
            Path dir = folder.dir();
            recordRun(session, graph, train, dir);
            reporter.started(model, train, data.train(), data.test(), session.backend().description(), dir, wanted);
            return trainIn(dir, session, graph, train, distributed, dataDir, data, reporter);
        }
    }

    /** Trains one model into {@code dir}, which this command has locked. */
    private Outcome trainIn(Path dir, Session session, TypedGraph graph, TrainSpec train, DistributedTraining distributed,
                            Path dataDir, Session.Data data, TrainReporter reporter) throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        String model = graph.graph().name();
        try (ParameterStore store = new ParameterStore(graph, session.backend(), train.seed());
             Trainer trainer = new Trainer(graph, store, train)) {
            TrainingRun run = new TrainingRun(graph, train, store, trainer, data.train(), data.test(),
                    new TrainingRun.Output(dir, session.script().source()));
            RunOutput output = new RunOutput(reporter, graph, train.loss(), train.batch(), dir, store, trainer, data.test(), gradNorms);
            try (DistributedTraining.Run remote = distributed == null ? null : distributed.open(new DistributedTraining.Job(
                         session.script().source(), session.script().file(), model, graph, train, session.deployment(),
                         session.backend().name(), options.threads != null ? options.threads : session.deployment().threads(),
                         pluginFolders(session), dataDir != null ? dataDir : session.deployment().data(), limit, trainer, store,
                         run.stepCheckpoint()));
                 Interruption sigint = Interruption.onSigint(run::requestStop, err)) {
                if (remote != null) {
                    run.distributed(remote);
                    reporter.note(model, "Training on " + remote.description());
                }
                if (init != null) Checkpoints.loadWeights(init, store);
                if (resume != null) {
                    Checkpoints.Position at = run.resume();
                    reporter.resumed(model, String.format(Locale.ROOT, "Resuming %s at epoch %d (step %d) from %s", model, at.epoch() + 1,
                            at.step(), dir), at.epoch() + 1, at.step());
                    output.continueFrom(MetricsHistory.points(dir.resolve("metrics.jsonl"), at.epoch()));
                }
                if (gradNorms) trainer.recordStepGradients();
                TrainingRun.Result result = run.callback(output).fit();
                if (result.stopped()) throw Interruption.stopped(dir, result.stoppedAt());
                return output.outcome();
            }
        }
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

    /** A learning rate to four significant digits: {@code 0.01}, {@code 0.009045}, {@code 2.447e-05}. */
    static String learningRate(float lr) {
        if (lr != 0 && Math.abs(lr) < 1e-4) return String.format(Locale.ROOT, "%.3e", lr);
        return new java.math.BigDecimal(Float.toString(lr)).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
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
