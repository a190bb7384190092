package org.neurite.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.data.EpochOrder;
import org.neurite.data.HoldOut;
import org.neurite.data.TrainSectionData;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.TrainStep;
import org.neurite.engine.Trainers;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NamedRegistry;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.DataSource;
import org.neurite.train.TrainSpec;

/**
 * What an executor JVM keeps between tasks, so a step neither recompiles the script nor rereads
 * the data: per {@link WorkerJob#key() job}, the runtime with the job's plugin folders, the
 * compiled script, the training split, and a pool of {@link Replica}s (a backend, parameters and
 * compiled models each). The loss and the optimiser come from the runtime's registries
 * ({@link Trainers}), as on the driver, so a plugin's loss or optimiser trains on the workers too. Tasks running at the
 * same time in one JVM ({@code local[2]}, or an executor with several cores) borrow different
 * replicas; a replica is only ever used by one task at a time.
 */
final class Workers {
    private Workers() {}

    private static final Map<String, JobState> JOBS = new ConcurrentHashMap<>();

    /** One job's shared, read-only state and its idle replicas. */
    static final class JobState {
        final WorkerJob job;
        final NeuriteRuntime runtime;
        /** The runtime's losses and optimisers: the core's and every plugin's. */
        final Trainers trainers;
        final TypedGraph graph;
        final TrainSpec spec;
        final Dataset train;
        final ConcurrentLinkedQueue<Replica> idle = new ConcurrentLinkedQueue<>();

        JobState(WorkerJob job) throws IOException {
            this.job = job;
            this.runtime = NeuriteRuntime.discover(job.plugins().stream().map(Path::of).toList());
            this.trainers = Trainers.of(runtime);
            Script script = new ScriptLoader(runtime).parse(job.scriptFile(), job.script());
            this.graph = script.model(job.model());
            if (graph == null) throw new IllegalStateException("the script sent to the worker has no model '" + job.model() + "'");
            this.spec = script.training(job.model()).orElse(TrainSpec.defaults(job.model())).with(job.batch(), job.epochs(), job.seed());
            this.train = trainingData(job, spec, runtime.dataSources());
        }
    }

    /**
     * A worker's own copy of the model: backend, parameters (overwritten from the driver's
     * broadcast before every use) and the {@link TrainStep} (its first half for a synchronous
     * slice, the whole step with its own optimiser for parameter averaging). Also caches the
     * current epoch's sample order.
     */
    static final class Replica implements AutoCloseable {
        final JobState state;
        final Backend backend;
        final ParameterStore store;
        final TrainStep step;
        private final EpochOrder epochOrder;
        private final int[] order;
        private int orderEpoch = -1;

        Replica(JobState state) {
            this.state = state;
            this.backend = state.runtime.createBackend(state.job.backend(), new BackendOptions(state.job.threads(), null), List.of(),
                    warning -> { });
            this.store = new ParameterStore(state.graph, backend, state.spec.seed());
            int maxSlice = Math.max(1, (state.job.batch() + state.job.partitions() - 1) / state.job.partitions());
            this.step = new TrainStep(state.graph, store, state.spec, state.trainers.loss(state.spec),
                    state.trainers.optimizer(state.spec.optimizer(), store), maxSlice);
            this.epochOrder = new EpochOrder(state.spec.seed(), state.train.size());
            this.order = new int[state.train.size()];
        }

        /** The seeded sample order of {@code epoch}, the same permutation the driver's Trainer would use. */
        int[] order(int epoch) {
            if (orderEpoch != epoch) {
                epochOrder.fill(epoch, order);
                orderEpoch = epoch;
            }
            return order;
        }

        @Override public void close() {
            step.close();
            store.close();
            backend.close();
        }
    }

    /** A replica of the job encoded as {@code encodedJob}, built on first use in this JVM. */
    static Replica borrow(String encodedJob) {
        JobState state = JOBS.computeIfAbsent(WorkerJob.key(encodedJob), k -> {
            try {
                return new JobState(WorkerJob.decode(encodedJob));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("worker cannot read the training data: " + e.getMessage(), e);
            }
        });
        Replica r = state.idle.poll();
        return r != null ? r : new Replica(state);
    }

    /** Hands a replica back after a task that completed (a failed task's replica is closed instead). */
    static void release(Replica r) {
        r.state.idle.offer(r);
    }

    /**
     * The training split as the driver's {@code nn train} finds it: a generated source from the
     * script, or IDX files from the job's folder (a Hadoop URI is first copied to a local cache),
     * the standard search otherwise, cut to the job's limit, less the validation split the train
     * section holds out.
     */
    static Dataset trainingData(WorkerJob job, TrainSpec spec, NamedRegistry<DataSource> sources) throws IOException {
        Path scriptFolder = Path.of(job.scriptFile()).toAbsolutePath().getParent();
        // A data source (the core's or a plugin's) makes its data; only a named dataset needs the job's folder.
        Path folder = sources.find(spec.data()).isPresent() ? null
                : job.dataUri() != null ? HadoopData.localCopy(job.dataUri())
                : job.dataFolder() != null ? Path.of(job.dataFolder()) : null;
        Dataset train = TrainSectionData.load(spec, scriptFolder, folder, sources).train();
        if (job.limit() > 0) train = train.head(job.limit());
        // The driver's TrainingRun trains on what its validation split leaves; so must every worker.
        return spec.validation().enabled() ? HoldOut.validation(train, spec.validation().fraction(), spec.seed()).kept() : train;
    }
}
