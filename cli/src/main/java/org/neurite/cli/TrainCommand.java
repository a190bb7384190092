package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.neurite.cli.viz.PngFiles;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn train MODEL.nn}: the engine's {@link TrainingRun} trains the model as its {@code train}
 * section says (command-line options override it): validation, evaluation, early stopping, the
 * weights kept, checkpoints, {@code metrics.jsonl} and {@code --resume} are the run's. This command
 * only shows and records it: progress, plots and the result ({@link RunOutput}), what {@code nn
 * report} needs ({@link RunRecord}), Ctrl-C ({@link Interruption}), a locked run folder that never
 * holds an earlier run unless {@code --overwrite} ({@link RunFolder}), and a cluster when the
 * deployment asks for one ({@link ClusterTraining}).
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

    @Override public Integer call() throws Exception {
        PngFiles.headless();
        Session session = Session.open(options, true);
        PrintWriter out = spec.commandLine().getOut();
        TrainReporter reporter = new TrainReporter(out, OutputMode.choose(quiet, json));
        List<TypedGraph> models = all ? session.script().models().stream()
                .filter(g -> session.script().training(g.graph().name()).isPresent()).toList() : List.of(session.graph());
        if (models.isEmpty()) throw new BadInputException(options.script + " has no train section");
        if (resume != null && (all || this.out != null || overwrite)) {
            throw new BadInputException("--resume continues one run in its own folder; it does not combine with --all, --out or --overwrite");
        }
        // runs/<model> gives way to runs/<model>-2, ... when it holds a run; a folder the user named is refused instead.
        RunFolder.Choice choice = resume != null ? RunFolder.Choice.RESUME : overwrite ? RunFolder.Choice.OVERWRITE
                : this.out == null ? RunFolder.Choice.DEFAULT : RunFolder.Choice.NAMED;
        List<RunOutput.Outcome> outcomes = new ArrayList<>();
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
        if (outcomes.size() > 1) reporter.comparison(outcomes);
        out.flush();
        return ExitCodes.OK;
    }

    /** Trains one model into {@code wanted} (or the folder {@link RunFolder} chooses instead). */
    private RunOutput.Outcome train(Session session, TypedGraph graph, Path wanted, RunFolder.Choice choice, TrainReporter reporter)
            throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        String model = graph.graph().name();
        TrainSpec train = overridden(session.trainSpec(graph));
        ClusterTraining cluster = ClusterTraining.of(session, options);
        Path dataDir = cluster != null ? cluster.dataFolder(this.data) : this.data;
        Session.Data data = session.datasets(train, dataDir, limit);
        if (data.note() != null) err.println("nn: " + data.note());
        Trainers trainers = Trainers.of(session.runtime());
        Trainer.checkCompatible(graph, data.train(), trainers.loss(train));
        MemoryCheck.beforeTraining(session.backend(), graph, train, trainers, data); // before the run folder: a refusal writes nothing
        try (RunFolder folder = RunFolder.take(wanted, choice, err);
             ParameterStore store = new ParameterStore(graph, session.backend(), train.seed());
             Trainer trainer = trainers.create(graph, store, train)) {
            Path dir = folder.dir();
            RunRecord.write(dir, session, options, this.data, graph, train, spec.commandLine().getParseResult().originalArgs());
            TrainingRun run = new TrainingRun(graph, train, store, trainer, data.train(), data.test(),
                    new TrainingRun.Output(dir, session.script().source()));
            reporter.started(model, train, run, session.backend().description(), dir, wanted);
            RunOutput output = new RunOutput(reporter, graph, train, dir, store, trainer, gradNorms);
            try (DistributedTraining.Run remote = cluster == null ? null : cluster.open(graph, train, dataDir, limit, trainer, store, run);
                 Interruption sigint = Interruption.onSigint(run::requestStop, err)) {
                if (remote != null) reporter.note(model, "Training on " + remote.description());
                if (init != null) Checkpoints.loadWeights(init, store);
                if (resume != null) run.resume();
                if (gradNorms) trainer.recordStepGradients();
                TrainingRun.Result result = run.callback(output).fit();
                if (result.interrupted()) throw Interruption.stopped(dir, result.stoppedAt());
                return output.outcome();
            }
        }
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
