package org.neurite.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.data.Dataset;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * One training run, the loop every caller shares ({@code nn train}, Java code, a Spark driver):
 * the epochs of the train section with the schedule's rate for each, evaluation on the test split
 * after every epoch, the run's files, resuming from a checkpoint, stopping on request, and
 * {@link TrainingCallback}s at the start and end of the run, of every epoch and of every batch.
 *
 * <p>With an {@link Output} folder the run writes there after every epoch {@code metrics.jsonl}
 * (one JSON record per epoch), {@code model.safetensors} (the weights, PyTorch's layout) and
 * {@code checkpoint.safetensors} (weights, optimiser state, script, seed, epoch and step);
 * {@link #resume()} continues from that checkpoint bit for bit. Without one nothing is written.
 *
 * <pre>{@code
 * try (ParameterStore store = new ParameterStore(graph, backend, spec.seed());
 *      Trainer trainer = new Trainer(graph, store, spec)) {
 *     TrainingRun.Result r = new TrainingRun(graph, spec, store, trainer, train, test, null).fit();
 * }
 * }</pre>
 *
 * <p>The steps themselves are the {@link Trainer}'s ({@link TrainStep}), or a
 * {@link DistributedTraining.Run}'s when {@link #distributed} names one.
 */
public final class TrainingRun {
    private final TypedGraph graph;
    private final TrainSpec spec;
    private final ParameterStore store;
    private final Trainer trainer;
    private final Dataset train;
    private final Dataset test;
    private final Output output;
    private final List<TrainingCallback> callbacks = new ArrayList<>();
    private DistributedTraining.Run remote;
    private int firstEpoch = 1;
    /** Samples of {@link #firstEpoch} already trained (a checkpoint written inside an epoch). */
    private int firstSample;
    private boolean resumed;
    private volatile boolean stopAfterEpoch;

    /**
     * Where a run keeps its files.
     *
     * @param dir the run folder
     * @param script the script's canonical source (checkpoints carry it; its hash ties a checkpoint to it)
     */
    public record Output(Path dir, String script) {
        public Path checkpoint() { return dir.resolve("checkpoint.safetensors"); }

        public Path weights() { return dir.resolve("model.safetensors"); }

        public Path metrics() { return dir.resolve("metrics.jsonl"); }

        /** SHA-256 of the script, hex: what a checkpoint records to refuse another script's resume. */
        public String scriptHash() {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(script.getBytes(StandardCharsets.UTF_8)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /**
     * A finished epoch.
     *
     * @param test the evaluation on the test split, or null when the run has none
     * @param lr the rate the epoch ran at, or NaN when the schedule is constant
     * @param record the epoch's metrics record as written to {@code metrics.jsonl}
     */
    public record EpochEnd(int epoch, int epochs, int step, EpochStats train, EpochStats test, float lr, Map<String, Object> record) {}

    /**
     * How the run ended.
     *
     * @param train the last finished epoch's training statistics, or null when none finished
     * @param test its evaluation, or null
     * @param stoppedAt where {@link #requestStop()} ended the run inside an epoch, or
     *     {@link #stopAfterEpoch()} at the end of one (the checkpoint of that position is written
     *     when the run has an output folder); null when every epoch ran
     */
    public record Result(EpochStats train, EpochStats test, Checkpoints.Position stoppedAt) {
        public boolean stopped() { return stoppedAt != null; }
    }

    /**
     * @param trainer the trainer of {@code store}: its steps, its step counter and its evaluation
     * @param test the split evaluated after every epoch, or null for none
     * @param output where the run's files go, or null to write none
     */
    public TrainingRun(TypedGraph graph, TrainSpec spec, ParameterStore store, Trainer trainer, Dataset train, Dataset test,
                       Output output) {
        this.graph = graph;
        this.spec = spec;
        this.store = store;
        this.trainer = trainer;
        this.train = train;
        this.test = test;
        this.output = output;
        Trainer.checkCompatible(graph, train, trainer.loss());
    }

    /** Adds a callback; callbacks are told in the order they were added. */
    public TrainingRun callback(TrainingCallback callback) {
        callbacks.add(callback);
        return this;
    }

    /** Takes the steps on a cluster instead of with the trainer (which still evaluates and counts the steps). */
    public TrainingRun distributed(DistributedTraining.Run run) {
        this.remote = run;
        return this;
    }

    /** Writes the checkpoint of a position inside an epoch: what a cluster run calls every {@code checkpoint_every} steps. */
    public DistributedTraining.StepCheckpoint stepCheckpoint() {
        return (epoch, samples, step) -> {
            if (output != null) Checkpoints.saveCheckpoint(output.checkpoint(), store, position(epoch - 1, step, samples), output.script(), Map.of());
        };
    }

    /**
     * Restores the output folder's checkpoint (weights, optimiser state, step) and continues the
     * run where it stopped: the epoch after the last finished one, from the sample a stop inside
     * an epoch had reached.
     *
     * @return where the checkpoint stood
     * @throws IllegalArgumentException when the checkpoint is another script's or model's, has
     *     another seed, or its run already finished every epoch; saying what to do
     */
    public Checkpoints.Position resume() throws IOException {
        if (output == null) throw new IllegalStateException("a run without an output folder has no checkpoint to resume");
        Path file = output.checkpoint();
        var contents = Checkpoints.read(file);
        Checkpoints.Position at = Checkpoints.position(file, contents);
        if (!at.scriptHash().equals(output.scriptHash()) || !at.model().equals(graph.graph().name())) {
            throw new IllegalArgumentException(file + " was written by another script or model (" + at.model()
                    + "); resume with the script that started the run (" + output.dir().resolve("model.nn") + ")");
        }
        if (at.seed() != spec.seed()) {
            throw new IllegalArgumentException("the run in " + output.dir() + " used seed " + at.seed() + ", not " + spec.seed()
                    + "; resume with --seed " + at.seed());
        }
        if (at.epoch() >= spec.epochs()) {
            throw new IllegalArgumentException("the run in " + output.dir() + " already finished epoch " + at.epoch() + " of "
                    + spec.epochs() + "; ask for more with --epochs N");
        }
        Checkpoints.restore(file, contents, store);
        trainer.setStep(at.step());
        firstEpoch = at.epoch() + 1;
        firstSample = at.epochSamples();
        resumed = true;
        return at;
    }

    /**
     * Ends the run after the step in progress, with a checkpoint of that position inside the
     * epoch; safe to call from any thread (Ctrl-C's handler). Between epochs (during evaluation)
     * the next epoch takes one step first.
     */
    public void requestStop() {
        trainer.requestStop();
        DistributedTraining.Run r = remote;
        if (r != null) r.requestStop();
    }

    /**
     * Ends the run when the epoch in progress has been evaluated and its files written, as
     * Keras's {@code stop_training}: what an early-stopping callback calls from
     * {@link TrainingCallback#epochEnd}. The result's position is then the end of that epoch.
     */
    public void stopAfterEpoch() {
        stopAfterEpoch = true;
    }

    /** Trains the remaining epochs (all of them, unless {@link #resume()} was called). */
    public Result fit() throws IOException {
        MetricsLog metrics = output == null ? null
                : resumed ? MetricsLog.resume(output.metrics(), firstEpoch - 1) : new MetricsLog(output.metrics());
        for (TrainingCallback c : callbacks) c.runStart(this, firstEpoch, spec.epochs());
        TrainingListener batches = new TrainingListener() {
            @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                for (TrainingCallback c : callbacks) c.batchEnd(epoch, done, total, meanLoss, accuracy);
            }
        };
        EpochStats last = null;
        EpochStats lastTest = null;
        for (int epoch = firstEpoch; epoch <= spec.epochs(); epoch++) {
            for (TrainingCallback c : callbacks) c.epochStart(epoch, spec.epochs(), train.size());
            int from = epoch == firstEpoch ? firstSample : 0;
            EpochStats stats = null;
            try {
                stats = remote != null ? remote.trainEpoch(train, epoch, from, batches) : trainer.trainEpoch(train, epoch, from, batches);
            } finally {
                for (TrainingCallback c : callbacks) c.epochTrained(epoch, stats);
            }
            int stoppedAfter = remote != null ? remote.stoppedAfter() : trainer.stoppedAfter();
            if (stoppedAfter >= 0) {
                Checkpoints.Position at = position(epoch - 1, trainer.step(), stoppedAfter);
                if (output != null) Checkpoints.saveCheckpoint(output.checkpoint(), store, at, output.script(), Map.of());
                return end(new Result(last, lastTest, at));
            }
            EpochStats tested = test == null ? null : trainer.evaluate(test, epoch);
            // The rate the epoch ran at, as the optimiser held it (only when a schedule changes it).
            float lr = spec.schedule().isConstant() ? Float.NaN : trainer.optimizer().learningRate();
            Map<String, Object> record = record(epoch, stats, tested, lr);
            if (output != null) {
                metrics.append(record);
                writeFiles(epoch, tested);
            }
            last = stats;
            lastTest = tested;
            EpochEnd end = new EpochEnd(epoch, spec.epochs(), trainer.step(), stats, tested, lr, record);
            for (TrainingCallback c : callbacks) c.epochEnd(end);
            if (stopAfterEpoch && epoch < spec.epochs()) {
                // The epoch's checkpoint, just written, is where a resumed run continues.
                return end(new Result(last, lastTest, position(epoch, trainer.step(), 0)));
            }
        }
        return end(new Result(last, lastTest, null));
    }

    private Result end(Result result) throws IOException {
        for (TrainingCallback c : callbacks) c.runEnd(result);
        return result;
    }

    private Checkpoints.Position position(int finishedEpoch, int step, int epochSamples) {
        return new Checkpoints.Position(graph.graph().name(), output != null ? output.scriptHash() : "", spec.seed(), finishedEpoch,
                step, epochSamples);
    }

    /** The epoch's line of {@code metrics.jsonl}. */
    private Map<String, Object> record(int epoch, EpochStats stats, EpochStats tested, float lr) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("epoch", epoch);
        record.put("step", trainer.step());
        record.put("train_loss", stats.loss());
        if (!Double.isNaN(stats.accuracy())) record.put("train_accuracy", stats.accuracy());
        if (tested != null) {
            record.put("test_loss", tested.loss());
            if (!Double.isNaN(tested.accuracy())) record.put("test_accuracy", tested.accuracy());
        }
        record.put("samples_per_second", stats.samplesPerSecond());
        record.put("epoch_seconds", stats.seconds());
        if (!Float.isNaN(lr)) record.put("lr", Double.parseDouble(Float.toString(lr)));   // 0.01, not 0.009999999776
        record.put("time", Instant.now().toString());
        return record;
    }

    /** The weights with what produced them, and the checkpoint at the end of {@code epoch}. */
    private void writeFiles(int epoch, EpochStats tested) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(Checkpoints.MODEL, graph.graph().name());
        meta.put(Checkpoints.SCRIPT_HASH, output.scriptHash());
        meta.put(Checkpoints.EPOCH, Integer.toString(epoch));
        meta.put(Checkpoints.STEP, Integer.toString(trainer.step()));
        if (tested != null) {
            meta.put("neurite.test_loss", Double.toString(tested.loss()));
            if (!Double.isNaN(tested.accuracy())) meta.put("neurite.test_accuracy", Double.toString(tested.accuracy()));
        }
        Checkpoints.saveWeights(output.weights(), store, meta);
        Checkpoints.saveCheckpoint(output.checkpoint(), store, position(epoch, trainer.step(), 0), output.script(), Map.of());
    }
}
