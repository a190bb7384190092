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
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.graph.Node;
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

    @Option(names = "--seed", paramLabel = "N", description = "seed for weights, shuffling and dropout (default: the deployment's seed:, else the script's)")
    Long seed;

    @Option(names = "--data", paramLabel = "DIR", description = "folder with the dataset's IDX files")
    Path data;

    @Option(names = "--limit", paramLabel = "N", description = "use only the first N training samples (quick runs)")
    Integer limit;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/<model>, or the deployment's output:/<model>, or -2, -3, ... when that holds a run)")
    Path out;

    @Option(names = "--overwrite", description = "write into the --out folder (or runs/<model> itself) even if it holds a run, removing that run's files first (other files stay)")
    boolean overwrite;

    @Option(names = "--resume", paramLabel = "DIR", description = "continue the run in DIR from its checkpoint.safetensors (same script; its epochs, batch, seed, --limit and --data unless given)")
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
        if (resume != null && (all || this.out != null || overwrite)) {
            throw new BadInputException("--resume continues one run in its own folder; it does not combine with --all, --out or --overwrite");
        }
        // What the stopped run was trained with, read before anything else so that a resume trains the same run.
        RunSettings recorded = resume != null ? RunSettings.read(RunFolder.checkpointToResume(resume)) : null;
        Session session = Session.open(options, true);
        PrintWriter out = spec.commandLine().getOut();
        TrainReporter reporter = new TrainReporter(out, OutputMode.choose(quiet, json));
        List<TypedGraph> models = all ? session.script().models().stream()
                .filter(g -> session.script().training(g.graph().name()).isPresent()).toList() : List.of(session.graph());
        if (models.isEmpty()) throw new BadInputException(options.script + " has no train section");
        // runs/<model> gives way to runs/<model>-2, ... when it holds a run; a folder the user named is refused instead.
        RunFolder.Choice choice = resume != null ? RunFolder.Choice.RESUME : overwrite ? RunFolder.Choice.OVERWRITE
                : this.out == null ? RunFolder.Choice.DEFAULT : RunFolder.Choice.NAMED;
        List<RunOutput.Outcome> outcomes = new ArrayList<>();
        for (TypedGraph graph : models) {
            // --out, else the deployment's output folder, else runs/
            Path deployed = session.deployment().output();
            Path base = this.out != null ? this.out : deployed != null ? deployed : RunFolder.defaultRoot();
            Path dir = resume != null ? resume : this.out != null && !all ? this.out : base.resolve(graph.graph().name());
            try {
                outcomes.add(train(session, graph, dir, choice, recorded, reporter));
            } catch (Interruption.Stopped stopped) {
                out.flush();
                spec.commandLine().getErr().println(stopped.getMessage().replace("<script>", resumeCommand()));
                return ExitCodes.INTERRUPTED;
            }
        }
        if (outcomes.size() > 1) reporter.comparison(outcomes);
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * Trains one model into {@code wanted} (or the folder {@link RunFolder} chooses instead).
     * Everything that can refuse the run (the data, memory, {@code --init} weights, a checkpoint of
     * another script or an already finished run) is checked before a file of the run folder
     * changes; a folder this run created is removed again when it does not start.
     */
    private RunOutput.Outcome train(Session session, TypedGraph graph, Path wanted, RunFolder.Choice choice, RunSettings recorded,
                                    TrainReporter reporter) throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        String model = graph.graph().name();
        RunSettings settings = settings(session, session.trainSpec(graph), recorded);
        TrainSpec train = session.trainSpec(graph).with(settings.batch(), settings.epochs(), settings.seed());
        ClusterTraining cluster = ClusterTraining.of(session, options);
        Path dataDir = cluster != null ? cluster.dataFolder(settings.data()) : settings.data();
        Session.Data data = session.datasets(train, dataDir, settings.limit());
        if (data.note() != null) err.println("nn: " + data.note());
        Trainers trainers = Trainers.of(session.runtime());
        Trainer.Incompatibility misfit = Trainer.incompatibility(graph, data.train(), trainers.loss(train));
        if (misfit != null) throw positioned(graph, misfit);
        MemoryCheck.beforeTraining(session.backend(), graph, train, trainers, data); // before the run folder: a refusal writes nothing
        try (ParameterStore store = new ParameterStore(graph, session.backend(), train.seed());
             Trainer trainer = trainers.create(graph, store, train)) {
            if (init != null) Checkpoints.loadWeights(init, store);   // weights that do not fit are refused before the folder exists
            // Read once: the folder must not hold these copies' paths, and the run record writes them.
            RunRecord.Copies copies = RunRecord.copies(Path.of(session.script().file()), session.script().source());
            try (RunFolder folder = RunFolder.take(wanted, choice, List.copyOf(copies.files().keySet()), err)) {
                Path dir = folder.dir();
                TrainingRun run = new TrainingRun(graph, train, store, trainer, data.train(), data.test(),
                        new TrainingRun.Output(dir, session.script().source(), settings.metadata()));
                if (resume != null) run.resume();   // refused (another script, a finished run) before a file of the run changes
                try (DistributedTraining.Run remote = cluster == null ? null : cluster.open(graph, train, dataDir, settings.limit(), trainer,
                        store, run)) {
                    if (choice == RunFolder.Choice.OVERWRITE) folder.replacePreviousRun();
                    // The seed the run takes over the deployment's: --seed, or on --resume the run's own.
                    Long seedOverride = seed != null || recorded != null ? Long.valueOf(train.seed()) : null;
                    RunRecord.write(dir, session, copies, options, settings.data(), seedOverride, graph, train,
                            spec.commandLine().getParseResult().originalArgs());
                    folder.started();
                    reporter.started(model, train, run, session.backend().description(), dir, wanted);
                    RunOutput output = new RunOutput(reporter, graph, train, dir, store, trainer, gradNorms);
                    try (Interruption sigint = Interruption.onSigint(run::requestStop, err)) {
                        if (remote != null) reporter.note(model, "Training on " + remote.description());
                        if (gradNorms) trainer.recordStepGradients();
                        TrainingRun.Result result = run.callback(output).fit();
                        if (result.interrupted()) throw Interruption.stopped(dir, result.stoppedAt());
                        return output.outcome();
                    }
                }
            }
        }
    }

    /**
     * The settings this run trains with: the command line's, else (on {@code --resume}) what the
     * stopped run recorded, else the deployment's seed, else the train section's. A resume that
     * asks for another batch, limit, seed or data folder than the run had is refused: it would
     * not continue that run. More {@code --epochs} than the run had is how a run is extended.
     */
    private RunSettings settings(Session session, TrainSpec script, RunSettings recorded) {
        if (epochs != null && epochs < 1) throw new BadInputException("--epochs must be at least 1, got " + epochs);
        if (batch != null && batch < 1) throw new BadInputException("--batch must be at least 1, got " + batch);
        if (limit != null && limit < 1) throw new BadInputException("--limit must be at least 1, got " + limit);
        Path dataDir = data != null ? data.toAbsolutePath().normalize() : null;
        if (recorded == null) {
            Long deployed = session.deployment().seed();
            return new RunSettings(epochs != null ? epochs : script.epochs(), batch != null ? batch : script.batch(),
                    seed != null ? seed : deployed != null ? deployed : script.seed(), limit, data);
        }
        RunSettings.refuseOther(resume, "--batch", batch, recorded.batch());
        RunSettings.refuseOther(resume, "--seed", seed, recorded.seed());
        RunSettings.refuseOther(resume, "--limit", limit, recorded.limit());
        RunSettings.refuseOther(resume, "--data", dataDir, recorded.data());
        return new RunSettings(epochs != null ? epochs : recorded.epochs(), recorded.batch(), recorded.seed(), recorded.limit(),
                data != null ? data : recorded.data());
    }

    /** How the command line continues a stopped run: the script, the model chosen, and --resume (the run's settings travel with it). */
    private String resumeCommand() {
        String script = RunProvenance.quote(options.script.toString());
        return options.model != null ? script + " --model " + RunProvenance.quote(options.model) : script;
    }

    /**
     * A model that does not fit the data, said at the script line it is about: an input of the
     * wrong size at its {@code input} statement, an output that cannot score the targets at the
     * node that makes it (inside a block, with a note at every call). A loss that does not suit
     * the data keeps its plain message, as does a graph made without a script.
     */
    static RuntimeException positioned(TypedGraph graph, Trainer.Incompatibility misfit) {
        if (misfit.about() == Trainer.Misfit.INPUT) {
            SourceSpan input = graph.graph().inputs().get(0).span();
            if (input.isKnown()) return new ModelException(input, misfit.message());
        } else if (misfit.about() == Trainer.Misfit.OUTPUT) {
            Node output = graph.graph().node(graph.graph().outputs().get(0));
            if (output != null && output.span().isKnown()) return TypedGraph.error(output, misfit.message());
        }
        return new IllegalArgumentException(misfit.message());
    }
}
