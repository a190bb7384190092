package org.neurite.embedded;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import org.neurite.backend.Backend;
import org.neurite.data.DataSourceLoader;
import org.neurite.data.Dataset;
import org.neurite.data.TrainSectionData;
import org.neurite.dsl.Script;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.Evaluation;
import org.neurite.engine.Evaluator;
import org.neurite.engine.Loss;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.Trainer;
import org.neurite.engine.Trainers;
import org.neurite.engine.TrainingCallback;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;
import org.neurite.train.ValidationSpec;

/**
 * One model of a script with its weights on a backend, as {@link Neurite#load} returns it: train
 * it with {@link #fit} (the engine's {@link TrainingRun}, the loop {@code nn train} runs: the
 * schedule, a validation split, early stopping, the epoch kept, callbacks), measure it with
 * {@link #evaluate} and run it on a batch with {@link #predict} or {@link #classify}. The train
 * settings start as the script's train section says and can be changed before {@code fit}
 * ({@link #epochs}, {@link #validation}, {@link #earlyStopping}, {@link #keepBest},
 * {@link #output}). Weights start from the section's seed; {@link #loadWeights} replaces them.
 * The loss and optimizer come from the registries of the runtime the script was loaded with
 * ({@link Trainers}), a plugin's as readily as the core's.
 *
 * <p>Threads: one model runs one call at a time. {@code fit}, {@code evaluate}, {@code predict},
 * {@code classify}, {@code loadWeights} and {@code close} are serialised on the model (a
 * {@code predict} from another thread waits for a running {@code fit} to end and then sees the
 * weights it kept), so a model may be shared, but its calls do not run side by side: for that,
 * load a model per thread. A training callback may call the model from the training thread.
 * Close it to free the backend and the plugins' class loaders; after that those calls throw
 * {@link IllegalStateException}.
 */
public final class Model implements AutoCloseable {
    private final Script script;
    private final TypedGraph graph;
    private final Backend backend;
    private final ParameterStore weights;
    private final NeuriteRuntime runtime;
    private final Trainers trainers;
    private TrainSpec spec;
    private Path output;
    private Predictor predictor;
    private boolean closed;

    Model(Script script, TypedGraph graph, Backend backend, NeuriteRuntime runtime) {
        this.script = script;
        this.graph = graph;
        this.backend = backend;
        this.runtime = runtime;
        this.trainers = Trainers.of(runtime);
        this.spec = script.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name()));
        this.weights = new ParameterStore(graph, backend, spec.seed());
    }

    /** The model's name in the script. */
    public String name() { return graph.graph().name(); }

    /** The typed graph: shapes, parameters, nodes. */
    public TypedGraph graph() { return graph; }

    /** The train settings {@link #fit} uses. */
    public synchronized TrainSpec spec() { return spec; }

    /** Floats per input sample (the first input's shape without the batch). */
    public int inputSize() { return graph.shape(graph.graph().inputs().get(0).name()).size(); }

    /** Floats per output row. */
    public int outputSize() { return graph.outputShape().size(); }

    /** Trains this many epochs (a cosine schedule anneals over them). */
    public synchronized Model epochs(int epochs) {
        if (epochs < 1) throw new IllegalArgumentException("epochs must be at least 1, got " + epochs);
        spec = spec.with(spec.batch(), epochs, spec.seed());
        return this;
    }

    /** Holds this seeded fraction of the training data out as the validation split (the script's {@code validation = f}). */
    public synchronized Model validation(double fraction) {
        ValidationSpec v = spec.validation();
        spec = spec.withValidation(new ValidationSpec(fraction, v.earlyStopping(), v.keepBest()));
        return this;
    }

    /** Ends a run once {@code metric} ({@code val_loss}, {@code val_accuracy}) has not improved for {@code patience} epochs. */
    public synchronized Model earlyStopping(String metric, int patience) {
        ValidationSpec v = spec.validation();
        spec = spec.withValidation(new ValidationSpec(v.fraction(), new ValidationSpec.Patience(patience, metric, 0), v.keepBest()));
        return this;
    }

    /** Keeps the weights of the epoch with the best {@code metric} ({@code keep = best(metric)}) rather than the last. */
    public synchronized Model keepBest(String metric) {
        ValidationSpec v = spec.validation();
        spec = spec.withValidation(new ValidationSpec(v.fraction(), v.earlyStopping(), metric));
        return this;
    }

    /** Writes each run's files (metrics.jsonl, model.safetensors, checkpoint.safetensors) into {@code dir}; null (the default) writes none. */
    public synchronized Model output(Path dir) {
        this.output = dir;
        return this;
    }

    /** The training and test splits the train section's {@code data} names (a plugin's source too), found as {@code nn train} finds them. */
    public synchronized DataSourceLoader.Splits data() throws IOException {
        return TrainSectionData.load(spec, Path.of(script.file()).toAbsolutePath().getParent(), null, runtime.dataSources());
    }

    /**
     * Trains on {@code train} as the settings say, with a fresh optimiser from the current weights;
     * afterwards the model holds the weights the run kept.
     *
     * @throws IllegalArgumentException when a choice watches a metric without a validation split,
     *     or the data does not fit the model
     */
    public TrainingRun.Result fit(Dataset train, TrainingCallback... callbacks) throws IOException {
        return fit(train, null, callbacks);
    }

    /** As {@link #fit(Dataset, TrainingCallback...)}, reporting the loss and accuracy on {@code test} after every epoch (it chooses nothing). */
    public synchronized TrainingRun.Result fit(Dataset train, Dataset test, TrainingCallback... callbacks) throws IOException {
        checkOpen();
        Objects.requireNonNull(train, "train");   // a null callback is refused by TrainingRun.callback
        try (Trainer trainer = trainers.create(graph, weights, spec)) {
            TrainingRun run = new TrainingRun(graph, spec, weights, trainer, train, test,
                    output == null ? null : new TrainingRun.Output(output, script.source()));
            for (TrainingCallback c : callbacks) run.callback(c);
            return run.fit();
        }
    }

    /**
     * Loss and, for a classifier, accuracy, top-5 accuracy and per-class precision, recall and F1
     * over {@code data}, and every registered metric of the loss's kind ({@link Evaluation#metrics}).
     */
    public synchronized Evaluation evaluate(Dataset data) {
        checkOpen();
        Objects.requireNonNull(data, "data");
        Loss loss = trainers.loss(spec);
        try (Evaluator evaluator = new Evaluator(graph, weights, loss, spec.batch(), trainers.metrics(loss.classification()))) {
            return evaluator.evaluate(data);
        }
    }

    /**
     * The outputs for {@code count} samples packed in {@code inputs} ({@code count * inputSize()}
     * floats, sample after sample): {@code count * outputSize()} floats.
     *
     * @throws IllegalArgumentException when {@code inputs} does not hold exactly {@code count} samples
     */
    public synchronized float[] predict(float[] inputs, int count) {
        checkOpen();
        Objects.requireNonNull(inputs, "inputs");
        if (count < 0) throw new IllegalArgumentException("count must not be negative, got " + count);
        if (inputs.length != (long) count * inputSize()) {
            throw new IllegalArgumentException("inputs holds " + inputs.length + " floats; " + count + " samples of " + inputSize()
                    + " floats are " + (long) count * inputSize());
        }
        if (predictor == null) predictor = new Predictor(graph, weights, spec.batch());
        return predictor.predict(inputs, count);
    }

    /** The class of each of {@code count} samples: the arg-max of its output row. */
    public synchronized int[] classify(float[] inputs, int count) {
        return Predictor.argmax(predict(inputs, count), outputSize());
    }

    /** Replaces the weights with those of a safetensors file ({@code model.safetensors}, or a PyTorch {@code state_dict}). */
    public synchronized Model loadWeights(Path file) throws IOException {
        checkOpen();
        Objects.requireNonNull(file, "file");
        Checkpoints.loadWeights(file, weights);
        return this;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("model " + name() + " is closed");
    }

    /** Frees the backend and the plugins' class loaders; closing again does nothing. */
    @Override public synchronized void close() {
        if (closed) return;
        closed = true;
        if (predictor != null) predictor.close();
        weights.close();
        backend.close();
        runtime.close();
    }
}
