package org.neurite.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import org.neurite.config.DeploymentConfig;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * A way to compute the training steps of {@code nn train} on a cluster instead of in this process,
 * found with {@link ServiceLoader} by the name of the deployment section that asks for it
 * ({@code spark:} → {@code "spark"}). An implementation is a {@link StepExecutor} and nothing
 * more: the driver's {@link Trainer} keeps the loop over each epoch's batches (order, listener,
 * statistics, checkpoints inside an epoch, stop requests) and the {@link TrainingRun} everything
 * around it (epochs, evaluation, metrics, the per-epoch files, resume), with the driver's
 * {@link ParameterStore}; the trainer's {@link TrainStep} applies each synchronous step's summed
 * gradients, and every worker's share of a step runs through a {@link TrainStep} too.
 *
 * <p>Implementations live in optional modules ({@code distributed-spark}), so the core and the
 * default build carry no cluster engine.
 */
public interface DistributedTraining {
    /** The deployment section this implementation serves, e.g. {@code "spark"}. */
    String name();

    /**
     * A local folder holding the dataset when the deployment names it somewhere the driver cannot
     * read directly (a Hadoop file-system URI), fetched now; null to use the normal search.
     */
    default Path dataFolder(DeploymentConfig deployment) throws IOException { return null; }

    /** Connects to the cluster for one run; {@link Run#close()} disconnects. */
    Run open(Job job) throws IOException;

    /**
     * What the cluster needs to rebuild the run on its workers, plus the driver's state.
     *
     * @param script the script's canonical source (workers compile it themselves)
     * @param scriptFile the script's path, for messages and to resolve relative data files
     * @param model the model to train
     * @param graph the driver's compiled graph of that model
     * @param spec the train section with the command line's overrides (batch, epochs, seed)
     * @param deployment the whole deployment (its section names the cluster)
     * @param backend the backend the driver resolved (workers use the same one)
     * @param threads worker threads for the backend (0 = all cores)
     * @param pluginFolders extra plugin folders, absolute
     * @param dataFolder the folder the driver read the dataset from, or null when it came from
     *                   the standard search ({@code $NEURITE_DATA}, system package, bundled subset)
     * @param limit keep only the first N training samples, or null
     * @param trainer the driver's trainer, whose loop hands the steps to the {@link Run}: its {@link TrainStep}
     *                applies each synchronous step's summed gradients
     * @param store the driver's parameters: the weights broadcast each step, the gradients summed into
     */
    record Job(String script, String scriptFile, String model, TypedGraph graph, TrainSpec spec, DeploymentConfig deployment,
               String backend, int threads, List<Path> pluginFolders, Path dataFolder, Integer limit,
               Trainer trainer, ParameterStore store) {
        public Job {
            pluginFolders = List.copyOf(pluginFolders);
        }
    }

    /**
     * A connected cluster training one model: the {@link StepExecutor} a {@link Trainer} hands its
     * steps to ({@link TrainingRun#distributed}).
     */
    interface Run extends StepExecutor, AutoCloseable {
        /** Steps between checkpoints inside an epoch that the deployment asks for; 0 for none. */
        default int checkpointEvery() { return 0; }

        /** One line for the user: the cluster, its workers and the mode. */
        String description();

        @Override void close();
    }

    /** The implementation on the class path serving {@code name}, if any. */
    static Optional<DistributedTraining> find(String name) {
        for (DistributedTraining t : ServiceLoader.load(DistributedTraining.class, DistributedTraining.class.getClassLoader())) {
            if (t.name().equals(name)) return Optional.of(t);
        }
        return Optional.empty();
    }
}
