package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.backend.Slice;
import org.neurite.data.DataSourceLoader;
import org.neurite.data.Dataset;
import org.neurite.data.DatasetLocator;
import org.neurite.dsl.Script;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.MemoryPlan;
import org.neurite.engine.MemoryPlanner;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.engine.TrainStep;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingRun;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * The memory planner against the engine: what it counts before allocating equals, to the byte,
 * what a real training run then allocates on its backend (parameters, gradients, optimiser
 * state, activations, their gradients and layer state at every batch size the run compiles),
 * apart from the loss targets, which it leaves out; and compiles that cannot fit are refused
 * before anything is allocated, with a batch that fits.
 */
class MemoryPlanTest {
    /** A backend that counts the bytes of every tensor allocated through it, and runs everything on {@code cpu}. */
    private static Backend counting(Backend cpu, AtomicLong bytes) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, method, args) -> {
            if (method.getName().equals("allocate")) bytes.addAndGet(4L * ((Shape) args[0]).elementCount());
            try {
                return method.invoke(cpu, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    /**
     * One epoch of real training, counting allocations, against the plan: LeNet-5 with SGD and
     * momentum (max-pooling indices), a ResNet with Adam (batch-norm state, skip connections whose
     * gradients are summed from one buffer per reading edge) and an LSTM with Adam (recurrent
     * states kept for backward). 40 training and 24 test samples at batch 16 compile batches of
     * 16 and 8; so does the forward pass over the test split that follows. The CPU backend runs the
     * two convolutional networks' batches of 16 as two shards (TrainStep): the ResNet compiles 8
     * and 4 for each shard, LeNet-5 8 for each and its remainder of 8 whole (too few activations
     * for its weights to shard); the test split is evaluated in batches of 8 through the first
     * shard's models, and the second shard holds its own parameter gradients.
     */
    @Test void thePlanIsWhatTrainingAllocatesExceptTheTargets() throws IOException {
        DatasetLocator.Located images = Fixtures.bundledSubset();
        check(Fixtures.example("lenet5.nn"), "LeNet5", images.train().head(40), images.test().head(24));
        check(Fixtures.example("resnet_small.nn"), "ResNetSmall", images.train().head(40), images.test().head(24));
        Script adding = Fixtures.example("adding.nn");
        TrainSpec lstm = adding.training("AddingLSTM").orElseThrow();
        DataSourceLoader.Splits sums = DataSourceLoader.create("adding", lstm.dataArgs(), 1, null);
        check(adding, "AddingLSTM", sums.train().head(40), sums.test().head(24));
    }

    private static void check(Script script, String model, Dataset train, Dataset test) throws IOException {
        TypedGraph graph = script.model(model);
        TrainSpec spec = script.training(model).orElseThrow().with(16, 1, 1);
        AtomicLong allocated = new AtomicLong();
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { })) {
            Backend counted = counting(cpu, allocated);
            boolean shards = TrainStep.runsInShards(graph, counted, 16);
            java.util.function.IntPredicate shardedAt = b -> TrainStep.runsInShards(graph, counted, b);
            // LeNet-5 (61,706 weights, 15,786 activation floats a sample) shards its batches of 16, not of 8 (TrainStep.sharded).
            assertEquals(!model.equals("AddingLSTM"), shards, model + " runs in shards");
            MemoryPlan plan = MemoryPlanner.training(graph, spec, train.size(), test.size()).inShards(shardedAt).plan(16);
            List<Integer> compiled = switch (model) {
                case "LeNet5" -> List.of(8);              // shard 0's 8, and its remainder batch of 8 whole: the same model
                case "ResNetSmall" -> List.of(8, 4);
                default -> List.of(16, 8);
            };
            assertEquals(compiled, plan.compiledBatches(), model);
            assertEquals(shards ? (model.equals("LeNet5") ? List.of(8) : List.of(8, 4)) : List.of(), plan.secondShardBatches(), model);
            try (ParameterStore store = new ParameterStore(graph, counted, spec.seed());
                 Trainer trainer = new Trainer(graph, store, spec)) {
                assertEquals(plan.fixed(), allocated.get(), model + ": parameters, gradients and optimiser state");
                new TrainingRun(graph, spec, store, trainer, train, test, null).fit();
                // One target tensor per compiled batch size (of each shard).
                long targets = 4L * java.util.stream.Stream.concat(plan.compiledBatches().stream(), plan.secondShardBatches().stream())
                        .mapToInt(Integer::intValue).sum() * train.targetSize();
                assertEquals(plan.total() + targets, allocated.get(), model + ": everything, after an epoch and its evaluation");
                // nn train's confusion matrix: the test split forward in calls of the batch (ConfusionCounts), the
                // training models still allocated; the predictor runs each call of 16 and of 8 as two shards.
                MemoryPlan withForward = MemoryPlanner.training(graph, spec, train.size(), test.size())
                        .thenForward(test.size()).inShards(shardedAt).forwardInShards(Predictor.runsInShards(graph, counted)).plan(16);
                // The LSTM is no shardable layer: its predictor runs whole batches.
                assertEquals(model.equals("AddingLSTM") ? List.of(16, 8) : List.of(8, 4, 8, 4), withForward.forwardBatches(),
                        model + ": shard 0's and shard 1's halves of 16 and 8");
                try (Predictor predictor = new Predictor(graph, store, 16)) {
                    for (int from = 0; from < test.size(); from += 16) {
                        int count = Math.min(16, test.size() - from);
                        predictor.predict(new float[count * test.sampleSize()], count);
                    }
                    assertEquals(withForward.total() + targets, allocated.get(), model + ": and a forward pass over the test split");
                }
            }
            assertTrue(plan.activations() > 0 && plan.activationGradients() > 0 && plan.layerState() > 0, model + " " + plan);
        }
    }

    @Test void optimiserStateIsCountedPerOptimiser() throws IOException {
        Script lenet = Fixtures.example("lenet5.nn");
        TypedGraph graph = lenet.mainModel();
        TrainSpec sgd = lenet.training("LeNet5").orElseThrow();
        MemoryPlan plan = MemoryPlanner.training(graph, sgd).plan(64);
        // LeNet-5: 61,706 trainable parameters; SGD keeps one velocity each, and the trainer a few floats of step status.
        assertEquals(4L * 61_706, plan.parameters());
        assertEquals(4L * 61_706, plan.parameterGradients());
        assertTrue(plan.optimizerState() > 4L * 61_706 && plan.optimizerState() < 4L * 61_706 + 256, "" + plan.optimizerState());
        assertEquals(1, plan.optimizerSlots());
        Script resnet = Fixtures.example("resnet_small.nn");   // its train section asks for Adam
        MemoryPlan adam = MemoryPlanner.training(resnet.mainModel(), resnet.training("ResNetSmall").orElseThrow()).plan(64);
        assertEquals(2, adam.optimizerSlots(), "Adam keeps two moments per parameter");
        MemoryPlan inference = MemoryPlanner.inference(graph).plan(64);
        assertEquals(0, inference.optimizerState());
        assertEquals(plan.activations(), inference.activations(), "the same activations, forward only");
        assertEquals(4L * 64 * 10, inference.activationGradients(), "for inference only the output's gradient (a loss is computable)");
    }

    @Test void vggAtAHugeBatchIsRefusedWithTheCountAndABatchThatFits() throws IOException {
        TypedGraph vgg = Fixtures.example("vgg16.nn").mainModel();
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", BackendOptions.defaults(), List.of(), w -> { })) {
            Backend small = limited(cpu, 1L << 30);
            TypedGraph lenet = Fixtures.example("lenet5.nn").mainModel();
            try (ParameterStore store = new ParameterStore(lenet, cpu, 1)) {
                OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> CompiledModel.compile(vgg, small, 1024, store));
                // What a compile holds per sample, from the plan: activations, their gradients and the layers' state.
                MemoryPlan one = MemoryPlanner.training(vgg, null).plan(1);
                long perSample = one.total() - one.fixed();
                // [1024, 64, 224, 224] is 3.3 billion floats: more than any tensor holds.
                assertEquals("model VGG16 at batch 1024 needs at least " + String.format("%,d", 1024 * perSample >> 20) + " MiB for activations,"
                        + " their gradients and layer state, with a tensor of more than 2^31-1 elements (stage1.0 [1024, 64, 224, 224]), but"
                        + " backend cpu has 1,024 MiB available; use a batch of at most " + ((1L << 30) / perSample) + ", or give Java more heap"
                        + " (NEURITE_JAVA_OPTS=-Xmx…) or the backend more memory", e.getMessage());
            }
        }
    }

    /**
     * {@code nn predict}'s plan on the CPU backend, whose predictor runs each call of two samples or
     * more as two shards in pieces of at most 32 ({@link Predictor}): 75 inputs at batch 64 are
     * calls of 64 (halves of 32) and 11 (halves of 6 and 5), 1 input a call of one sample, whole;
     * what the predictor allocates is the plan: the activations of whole batches (the same samples
     * at once), and each model's own folded weights (layer state) for twice as many models.
     */
    @Test void thePredictionPlanIsWhatThePredictorAllocatesInShards() throws IOException {
        TypedGraph graph = Fixtures.example("resnet_small.nn").mainModel();
        for (int samples : new int[] {75, 1}) {
            AtomicLong allocated = new AtomicLong();
            try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(2, null), List.of(), w -> { })) {
                Backend counted = counting(cpu, allocated);
                assertTrue(Predictor.runsInShards(graph, counted));
                MemoryPlan plan = MemoryPlanner.inference(graph, samples).forwardInShards(true).plan(64);
                MemoryPlan whole = MemoryPlanner.inference(graph, samples).plan(64);
                assertEquals(samples == 1 ? List.of(1) : List.of(32, 6), plan.compiledBatches(), samples + " samples");
                assertEquals(samples == 1 ? List.of() : List.of(32, 5), plan.secondShardBatches(), samples + " samples");
                assertTrue(plan.activations() <= whole.activations(), plan + " against " + whole);
                try (ParameterStore store = new ParameterStore(graph, counted, 1);
                     Predictor predictor = new Predictor(graph, store, Math.min(64, samples))) {
                    for (int from = 0; from < samples; from += 64) {
                        int count = Math.min(64, samples - from);
                        predictor.predict(new float[count * 28 * 28], count);
                    }
                    assertEquals(plan.total(), allocated.get(), samples + " samples");
                }
            }
        }
    }

    /**
     * An inference compile (prediction, evaluation) holds no gradients: the same forward output,
     * bit for bit, in roughly half the memory of a training compile, and backward refuses.
     */
    @Test void inferenceCompileHasNoGradientBuffersAndTheSameOutput() throws IOException {
        TypedGraph lenet = Fixtures.example("lenet5.nn").mainModel();
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", BackendOptions.defaults(), List.of(), w -> { });
             ParameterStore store = new ParameterStore(lenet, cpu, 7);
             CompiledModel training = CompiledModel.compile(lenet, cpu, 8, store);
             CompiledModel inference = CompiledModel.compileForInference(lenet, cpu, 8, store)) {
            MemoryPlan planned = MemoryPlanner.inference(lenet).plan(8);
            assertEquals(planned.activations() + planned.activationGradients() + planned.layerState(), inference.bytesAllocated());
            float[] x = new float[8 * 28 * 28];
            java.util.Random random = new java.util.Random(3);
            for (int i = 0; i < x.length; i++) x[i] = random.nextFloat();
            float[] expected = new float[8 * 10];
            float[] actual = new float[8 * 10];
            cpu.upload(x, 0, Slice.of(training.input(0), 0, x.length));
            cpu.upload(x, 0, Slice.of(inference.input(0), 0, x.length));
            training.forward(false, 0);
            inference.forward(false, 0);
            cpu.download(Slice.of(training.output(), 0, expected.length), expected, 0);
            cpu.download(Slice.of(inference.output(), 0, actual.length), actual, 0);
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual, 0f);
            assertTrue(inference.bytesAllocated() < 0.6 * training.bytesAllocated(),
                    inference.bytesAllocated() + " bytes for inference vs " + training.bytesAllocated() + " for training");
            assertEquals(null, inference.gradient("c1"), "no activation gradients");
            IllegalStateException e = assertThrows(IllegalStateException.class, inference::backward);
            assertEquals("model LeNet5 was compiled for inference; compile it for training to run backward", e.getMessage());
        }
    }

    /** A view of {@code cpu} that reports only {@code bytes} of memory. */
    private static Backend limited(Backend cpu, long bytes) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> method.getName().equals("memoryAvailable") ? bytes : method.invoke(cpu, args));
    }
}
