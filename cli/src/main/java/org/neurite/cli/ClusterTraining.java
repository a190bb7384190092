package org.neurite.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.neurite.engine.DistributedTraining;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * What {@code nn train} hands the cluster engine when the deployment has a {@code spark:} section:
 * the engine found on the class path, and the job (script, model, spec, backend, threads, plugin
 * folders, data) its workers rebuild the run from. The steps are then computed there; the loops
 * over epochs and batches stay the engine's ({@link TrainingRun}, {@link Trainer}).
 */
final class ClusterTraining {
    private final DistributedTraining engine;
    private final Session session;
    private final ModelOptions options;

    private ClusterTraining(DistributedTraining engine, Session session, ModelOptions options) {
        this.engine = engine;
        this.session = session;
        this.options = options;
    }

    /**
     * The cluster engine the deployment asks for, or null to train here.
     *
     * @throws BadInputException when the deployment asks for Spark and the Spark module is not on
     *     the class path, saying how to run it
     */
    static ClusterTraining of(Session session, ModelOptions options) {
        if (session.deployment().spark() == null) return null;
        DistributedTraining engine = DistributedTraining.find("spark").orElseThrow(() -> new BadInputException("the deployment "
                + options.deployment + " asks for Spark (its spark: section), but the Spark module is not on the class path. Run it"
                + " through the launcher, which builds distributed-spark (mvn -Pspark) and adds Spark when the deployment has a spark:"
                + " section (or NEURITE_SPARK=1 is set): ./nn train " + options.script + " --deploy " + options.deployment
                + "; on a cluster use spark-submit with the Neurite jars (README, 'Training on Spark')"));
        return new ClusterTraining(engine, session, options);
    }

    /** The data folder: {@code --data}, else the deployment's {@code spark.data} (a Hadoop URI copied here), else null. */
    Path dataFolder(Path given) throws IOException {
        if (given != null) return given;
        return engine.dataFolder(session.deployment());
    }

    /** Starts the job whose workers compute the steps of {@code run}, and hands it to the run as its step executor. */
    DistributedTraining.Run open(TypedGraph graph, TrainSpec train, Path dataDir, Integer limit, Trainer trainer, ParameterStore store,
                                 TrainingRun run) throws IOException {
        DistributedTraining.Run remote = engine.open(new DistributedTraining.Job(session.script().source(), session.script().file(), graph.graph().name(), graph,
                train, session.deployment(), session.backend().name(),
                options.threads != null ? options.threads : session.deployment().threads(), pluginFolders(),
                dataDir != null ? dataDir : session.deployment().data(), limit, trainer, store));
        run.distributed(remote);
        return remote;
    }

    /** Plugin folders of the deployment and of --plugins, as workers must load them too. */
    private List<Path> pluginFolders() {
        List<Path> folders = new ArrayList<>(session.deployment().plugins());
        options.plugins.folders.forEach(f -> folders.add(f.toAbsolutePath().normalize()));
        return folders;
    }
}
