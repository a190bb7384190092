package org.neurite.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.neurite.data.Dataset;
import org.neurite.data.HoldOut;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.train.Metrics;
import org.neurite.train.TrainSpec;
import org.neurite.train.ValidationSpec;

/**
 * One training run, the loop every caller shares ({@code nn train}, Java code, a Spark driver):
 * the epochs of the train section with the schedule's rate for each, evaluation after every
 * epoch, the run's files, resuming from a checkpoint, stopping on request, and
 * {@link TrainingCallback}s at the start and end of the run, of every epoch and of every batch.
 *
 * <p>What the train section says about choosing among epochs ({@link ValidationSpec}) happens
 * here: with {@code validation = 0.1} a seeded tenth of the training split is held out
 * ({@link HoldOut#validation}) and evaluated after every epoch ({@code val_loss},
 * {@code val_accuracy}); {@code early_stopping} is an {@link EarlyStopping} on one of those, and
 * {@code keep = best(metric)} keeps the best epoch's weights. The test split is evaluated and
 * reported after every epoch too, but nothing is chosen by it.
 *
 * <p>With an {@link Output} folder the run writes there after every epoch {@code metrics.jsonl}
 * (one JSON record per epoch), {@code model.safetensors} (the kept weights, PyTorch's layout: the
 * last epoch's, or under {@code keep = best} the best epoch's) and {@code checkpoint.safetensors}
 * (the last epoch's weights, optimiser state, script, seed, epoch and step); {@link #resume()}
 * continues from that checkpoint bit for bit. Without one nothing is written. When the run ends,
 * its store holds the kept weights.
 *
 * <pre>{@code
 * try (ParameterStore store = new ParameterStore(graph, backend, spec.seed());
 *      Trainer trainer = new Trainer(graph, store, spec)) {
 *     TrainingRun.Result r = new TrainingRun(graph, spec, store, trainer, train, test, null).fit();
 * }
 * }</pre>
 *
 * <p>The steps themselves are the {@link Trainer}'s loop over each epoch's batches; they are
 * computed by its {@link TrainStep} on this process's backend, or on a cluster when
 * {@link #distributed} names a {@link DistributedTraining.Run} (its {@link StepExecutor}).
 * Callbacks, checkpoints, stop requests and numerical faults work the same either way.
 */
public final class TrainingRun {
    private final TypedGraph graph;
    private final TrainSpec spec;
    private final ParameterStore store;
    private final Trainer trainer;
    private final Dataset train;
    private final Dataset validation;
    private final Dataset test;
    private final Output output;
    private final List<TrainingCallback> callbacks = new ArrayList<>();
    private final EarlyStopping earlyStopping;
    private final KeptWeights kept;
    private int firstEpoch = 1;
    /** Samples of {@link #firstEpoch} already trained (a checkpoint written inside an epoch). */
    private int firstSample;
    private boolean resumed;
    /** Why a callback ended the run after the epoch in progress; null when none did. */
    private volatile String stopAfterEpoch;

    /**
     * Where a run keeps its files.
     *
     * @param dir the run folder
     * @param script the script's canonical source (checkpoints carry it; its hash ties a checkpoint to it)
     */
    public record Output(Path dir, String script, Map<String, String> settings) {
        /**
         * @param settings what else every checkpoint records about the run (the caller's keys, e.g.
         *     the command line's settings that shaped it, so that a resume can reuse and check them)
         */
        public Output {
            // In the caller's order, which every checkpoint's metadata keeps: Map.copyOf's order
            // changes from JVM to JVM, and with it the bytes of identical runs' checkpoints.
            settings.forEach((key, value) -> Objects.requireNonNull(value, () -> "setting " + Objects.requireNonNull(key, "setting key")));
            settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        }

        /** A run folder whose checkpoints record nothing beyond the run's own position. */
        public Output(Path dir, String script) {
            this(dir, script, Map.of());
        }

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
     * @param validation the evaluation on the validation split, or null when the run has none
     * @param test the evaluation on the test split, or null when the run has none
     * @param lr the rate the epoch ran at, or NaN when the schedule is constant
     * @param record the epoch's metrics record as written to {@code metrics.jsonl}
     * @param kept whether this epoch's weights are now the ones the run keeps (always, under {@code keep = last})
     */
    public record EpochEnd(int epoch, int epochs, int step, EpochStats train, Evaluation validation, Evaluation test, float lr,
                           Map<String, Object> record, boolean kept) {
        /**
         * An epoch a resumed run finished before it stopped, as its {@code metrics.jsonl} record
         * tells it: the figures without per-class counts (which the log does not keep).
         */
        static EpochEnd fromRecord(Map<String, Object> r, int epochs, long trainSamples, long validationSamples, long testSamples) {
            int epoch = ((Number) r.get("epoch")).intValue();
            EpochStats train = new EpochStats(epoch, number(r, "train_loss"), number(r, "train_accuracy"), trainSamples,
                    number(r, "epoch_seconds"));
            return new EpochEnd(epoch, epochs, ((Number) r.get("step")).intValue(), train, evaluation(r, "val", epoch, validationSamples),
                    evaluation(r, "test", epoch, testSamples), (float) number(r, "lr"), r, true);
        }

        private static Evaluation evaluation(Map<String, Object> r, String split, int epoch, long samples) {
            if (!r.containsKey(split + "_loss")) return null;
            long[] none = new long[0];
            return new Evaluation(epoch, number(r, split + "_loss"), number(r, split + "_accuracy"), number(r, split + "_top5"), none, none,
                    none, samples, 0);
        }

        private static double number(Map<String, Object> r, String key) {
            return r.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
        }
    }

    /**
     * How the run ended.
     *
     * @param kept the epoch whose weights the run keeps (the last finished, or under
     *     {@code keep = best} the best), or null when no epoch finished in this process
     * @param last the last finished epoch, or null when none finished in this process
     * @param stoppedAt where {@link #requestStop()} ended the run inside an epoch, or
     *     {@link #stopAfterEpoch(String)} at the end of one (the checkpoint of that position is
     *     written when the run has an output folder); null when every epoch ran
     * @param stopReason why a callback ended the run after an epoch (early stopping), or null
     */
    public record Result(EpochEnd kept, EpochEnd last, Checkpoints.Position stoppedAt, String stopReason) {
        /** The kept epoch's training statistics, or null. */
        public EpochStats train() { return kept == null ? null : kept.train(); }

        /** The kept epoch's evaluation on the validation split, or null. */
        public Evaluation validation() { return kept == null ? null : kept.validation(); }

        /** The kept epoch's evaluation on the test split, or null. */
        public Evaluation test() { return kept == null ? null : kept.test(); }

        /** Whether the run ended before its last epoch, for whatever reason. */
        public boolean stopped() { return stoppedAt != null; }

        /** Whether a stop request ended it (Ctrl-C): the run is unfinished and resumable. */
        public boolean interrupted() { return stoppedAt != null && stopReason == null; }

        /** Whether a callback (early stopping) ended it after a finished epoch. */
        public boolean stoppedEarly() { return stopReason != null; }
    }

    /**
     * @param trainer the trainer of {@code store}: its steps, its step counter and its evaluation
     * @param train the training split; with {@code validation = f} in {@code spec}, a seeded
     *     fraction f of it is held out as the validation split and the rest trained on
     * @param test the split evaluated (and reported) after every epoch, or null for none
     * @param output where the run's files go, or null to write none
     * @throws IllegalArgumentException when early stopping or {@code keep = best} is asked for
     *     without a validation split, the split trained on or the test split is empty, or the data does
     *     not fit the model
     */
    public TrainingRun(TypedGraph graph, TrainSpec spec, ParameterStore store, Trainer trainer, Dataset train, Dataset test,
                       Output output) {
        this.graph = graph;
        this.spec = spec;
        this.store = store;
        this.trainer = trainer;
        ValidationSpec choice = spec.validation();
        if (!choice.enabled() && (choice.earlyStopping() != null || choice.keepBest() != null)) {
            throw new IllegalArgumentException("early stopping and keep = best watch the validation split, and this run holds none out: "
                    + "give validation = 0.1 (a fraction of the training split); the test split is never used to choose");
        }
        if (choice.enabled()) {
            HoldOut.Split split = HoldOut.validation(train, choice.fraction(), spec.seed());
            this.train = split.kept();
            this.validation = split.held();
        } else {
            this.train = train;
            this.validation = null;
        }
        this.test = test;
        this.output = output;
        // An empty split would "train" zero steps and write weights as if it had.
        if (this.train.size() == 0) {
            throw new IllegalArgumentException(train.size() == 0 ? "the training data holds no samples"
                    : "the training data holds " + train.size() + " samples, all of them in the validation split: nothing is left to train on");
        }
        // Its loss and accuracy would be 0/0: a NaN in every epoch's line and record.
        if (test != null && test.size() == 0) throw new IllegalArgumentException("the test data holds no samples");
        Trainer.checkCompatible(graph, this.train, trainer.loss());
        ValidationSpec.Patience patience = choice.earlyStopping();
        // A metric's direction is its own declaration (Metric.higherIsBetter); a loss goes down.
        this.earlyStopping = patience == null ? null : new EarlyStopping(patience.metric(), patience.patience(), patience.minDelta(),
                Metrics.lowerIsBetter(patience.metric(), trainer.metrics()));
        if (earlyStopping != null) callbacks.add(earlyStopping);
        String best = choice.keepBest();
        this.kept = new KeptWeights(best, best != null && Metrics.lowerIsBetter(best, trainer.metrics()));
    }

    /** The split trained on: the training data, less the validation split when there is one. */
    public Dataset train() { return train; }

    /** The validation split held out of the training data, or null when the train section asks for none. */
    public Dataset validation() { return validation; }

    /** The test split, or null. */
    public Dataset test() { return test; }

    /** The early stopping the train section asks for, or null. */
    public EarlyStopping earlyStopping() { return earlyStopping; }

    /** Adds a callback; callbacks are told in the order they were added (after the train section's early stopping). */
    public TrainingRun callback(TrainingCallback callback) {
        callbacks.add(Objects.requireNonNull(callback, "callback"));
        return this;
    }

    /**
     * Computes the steps on a cluster: the trainer's loop hands them to {@code run} (its
     * {@link StepExecutor}), still evaluates and counts them, and writes a checkpoint inside an
     * epoch every {@link DistributedTraining.Run#checkpointEvery()} steps when the run has an output folder.
     */
    public TrainingRun distributed(DistributedTraining.Run run) {
        trainer.stepExecutor(run);
        if (output != null) {
            trainer.checkpointEvery(run.checkpointEvery(), (epoch, samples, step) ->
                    Checkpoints.saveCheckpoint(output.checkpoint(), store, position(epoch - 1, step, samples), output.script(), output.settings()));
        }
        return this;
    }

    /**
     * Restores the output folder's checkpoint (weights, optimiser state, step) and continues the
     * run where it stopped: the epoch after the last finished one, from the sample a stop inside
     * an epoch had reached.
     *
     * @return where the checkpoint stood
     * @throws IllegalArgumentException when the checkpoint is another script's or model's, has
     *     another seed, or its run already finished every epoch or stopped early; saying what to do
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
        if (earlyStopping != null && at.epochSamples() == 0) {
            String stopped = earlyStopping.stopReasonAfter(MetricsLog.resume(output.metrics(), at.epoch()).records());
            if (stopped != null) {
                throw new IllegalArgumentException("the run in " + output.dir() + " stopped early after epoch " + at.epoch() + ": "
                        + stopped + "; it has nothing left to resume (more --epochs would not change that): start a new run");
            }
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
    }

    /**
     * Ends the run when the epoch in progress has been evaluated and its files written, as
     * Keras's {@code stop_training}: what early stopping calls from
     * {@link TrainingCallback#epochEnd}. The result's position is then the end of that epoch, and
     * {@code reason} its {@link Result#stopReason()}.
     */
    public void stopAfterEpoch(String reason) {
        stopAfterEpoch = reason;
    }

    /** {@link #stopAfterEpoch(String)} without a reason beyond "a callback asked". */
    public void stopAfterEpoch() {
        stopAfterEpoch("a callback ended the run");
    }

    /** Trains the remaining epochs (all of them, unless {@link #resume()} was called). */
    public Result fit() throws IOException {
        MetricsLog metrics = output == null ? null
                : resumed ? MetricsLog.resume(output.metrics(), firstEpoch - 1) : new MetricsLog(output.metrics());
        EpochEnd keptEnd = null;
        EpochEnd last = null;
        if (resumed) {
            List<Map<String, Object>> earlier = metrics.records();
            kept.replay(earlier);
            if (kept.replayedRecord() != null) keptEnd = fromRecord(kept.replayedRecord());
            if (!earlier.isEmpty()) last = fromRecord(earlier.get(earlier.size() - 1));
            for (TrainingCallback c : callbacks) c.runResumed(earlier);
        }
        for (TrainingCallback c : callbacks) c.runStart(this, firstEpoch, spec.epochs());
        TrainingListener batches = new TrainingListener() {
            @Override public void batchStart(int epoch, int step, long done) {
                for (TrainingCallback c : callbacks) c.batchStart(epoch, step, done);
            }

            @Override public void batchDone(int epoch, long done, long total, double meanLoss, double accuracy) {
                for (TrainingCallback c : callbacks) c.batchEnd(epoch, done, total, meanLoss, accuracy);
            }
        };
        for (int epoch = firstEpoch; epoch <= spec.epochs(); epoch++) {
            for (TrainingCallback c : callbacks) c.epochStart(epoch, spec.epochs(), train.size());
            int from = epoch == firstEpoch ? firstSample : 0;
            EpochStats stats = null;
            try {
                stats = trainer.trainEpoch(train, epoch, from, batches);
            } finally {
                for (TrainingCallback c : callbacks) c.epochTrained(epoch, stats);
            }
            int stoppedAfter = trainer.stoppedAfter();
            if (stoppedAfter >= 0) {
                Checkpoints.Position at = position(epoch - 1, trainer.step(), stoppedAfter);
                if (output != null) Checkpoints.saveCheckpoint(output.checkpoint(), store, at, output.script(), output.settings());
                return end(new Result(keptEnd, last, at, null));
            }
            Evaluation validated = validation == null ? null : trainer.evaluation(validation, epoch);
            Evaluation tested = test == null ? null : trainer.evaluation(test, epoch);
            // The rate the epoch ran at, as the optimiser held it (only when a schedule changes it).
            float lr = spec.schedule().isConstant() ? Float.NaN : trainer.optimizer().learningRate();
            Map<String, Object> record = record(epoch, stats, validated, tested, lr);
            boolean keep = kept.offer(epoch, record, store);
            if (kept.keepsBest()) record.put("kept", keep);
            if (output != null) {
                metrics.append(record);
                writeFiles(epoch, record, keep);
            }
            last = new EpochEnd(epoch, spec.epochs(), trainer.step(), stats, validated, tested, lr, record, keep);
            if (keep) keptEnd = last;
            for (TrainingCallback c : callbacks) c.epochEnd(last);
            String reason = stopAfterEpoch;
            if (reason != null && epoch < spec.epochs()) {
                // The epoch's checkpoint, just written, is where a resumed run would continue.
                restoreKeptWeights(last);
                return end(new Result(keptEnd, last, position(epoch, trainer.step(), 0), reason));
            }
        }
        restoreKeptWeights(last);
        return end(new Result(keptEnd, last, null, null));
    }

    /**
     * Under {@code keep = best}, puts the best epoch's weights back into the store when a later
     * epoch was the last trained, so that what follows the run (its confusion matrix, a Java
     * caller's predictions) sees what {@code model.safetensors} holds. The checkpoint keeps the last.
     */
    private void restoreKeptWeights(EpochEnd last) throws IOException {
        if (!kept.keepsBest() || last == null || kept.epoch() == last.epoch() || kept.epoch() == 0) return;
        List<NamedTensor> weights = kept.bestWeights();
        if (weights == null && output != null) weights = SafeTensors.read(output.weights()).tensors();   // kept before a resume
        if (weights != null) store.load(weights);
    }

    private EpochEnd fromRecord(Map<String, Object> record) {
        return EpochEnd.fromRecord(record, spec.epochs(), train.size(), validation == null ? 0 : validation.size(),
                test == null ? 0 : test.size());
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
    private Map<String, Object> record(int epoch, EpochStats stats, Evaluation validated, Evaluation tested, float lr) {
        Map<String, Object> record = new LinkedHashMap<>();
        record.put("epoch", epoch);
        record.put("step", trainer.step());
        record.put("train_loss", stats.loss());
        if (!Double.isNaN(stats.accuracy())) record.put("train_accuracy", stats.accuracy());
        if (validated != null) put(record, "val", validated);
        if (tested != null) put(record, "test", tested);
        record.put("samples_per_second", stats.samplesPerSecond());
        record.put("epoch_seconds", stats.seconds());
        if (!Float.isNaN(lr)) record.put("lr", Double.parseDouble(Float.toString(lr)));   // 0.01, not 0.009999999776
        record.put("time", Instant.now().toString());
        return record;
    }

    /**
     * {@code <split>_loss}, for a classifier {@code <split>_accuracy} and {@code <split>_top5} when
     * defined, and {@code <split>_<name>} for every other metric measured.
     */
    private static void put(Map<String, Object> record, String split, Evaluation e) {
        record.put(split + "_loss", e.loss());
        if (!Double.isNaN(e.accuracy())) record.put(split + "_accuracy", e.accuracy());
        if (!Double.isNaN(e.top5())) record.put(split + "_top5", e.top5());
        e.metrics().forEach((name, value) -> {
            if (!Double.isNaN(value)) record.putIfAbsent(split + "_" + name, value);
        });
    }

    /**
     * The checkpoint at the end of {@code epoch} and, when the epoch's weights are kept, the
     * weights with what produced them.
     */
    private void writeFiles(int epoch, Map<String, Object> record, boolean keep) throws IOException {
        if (keep) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put(Checkpoints.MODEL, graph.graph().name());
            meta.put(Checkpoints.SCRIPT_HASH, output.scriptHash());
            meta.put(Checkpoints.EPOCH, Integer.toString(epoch));
            meta.put(Checkpoints.STEP, Integer.toString(trainer.step()));
            for (String key : List.of("val_loss", "val_accuracy", "test_loss", "test_accuracy")) {
                if (record.get(key) instanceof Number n) meta.put("neurite." + key, Double.toString(n.doubleValue()));
            }
            Checkpoints.saveWeights(output.weights(), store, meta);
        }
        Checkpoints.saveCheckpoint(output.checkpoint(), store, position(epoch, trainer.step(), 0), output.script(), output.settings());
    }
}
