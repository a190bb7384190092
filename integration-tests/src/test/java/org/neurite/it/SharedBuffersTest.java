package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.MemoryPlanner;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.train.TrainSpec;

/**
 * Tensors sharing buffers by their lives ({@link CompiledModel}'s class comment): training with
 * activation gradients shared and with every gradient in its own buffer gives the same bits (a
 * chain, skip connections with fused batch norm and add, concatenated branches, a split, a zero
 * padding, a recurrent layer); the small ResNet's training holds a third of the gradient bytes;
 * the output's and an input's gradients keep their own buffers; inference with node outputs
 * shared predicts the same bits and holds fewer bytes, and an inspection compile shares nothing.
 */
class SharedBuffersTest {
    /** {@code body} run with {@link CompiledModel#BUFFER_SHARING_PROPERTY} set to {@code share}. */
    static <T> T withSharing(boolean share, Supplier<T> body) {
        return Fixtures.withProperty(CompiledModel.BUFFER_SHARING_PROPERTY, Boolean.toString(share), body);
    }

    /** Three steps from the script's seed; the weights after them. */
    private static List<NamedTensor> train(TypedGraph graph, TrainSpec spec, Dataset data, boolean share) {
        return withSharing(share, () -> Fixtures.trainedWeights(graph, spec, data));
    }

    private static void trainsTheSameBitsSharedAndNot(Script script, String model, Dataset data) throws Exception {
        TypedGraph graph = script.model(model);
        TrainSpec spec = script.training(model).orElseThrow();
        Dataset steps = data.head(3 * spec.batch());
        List<NamedTensor> own = train(graph, spec, steps, false);
        List<NamedTensor> shared = train(graph, spec, steps, true);
        assertEquals(own.size(), shared.size());
        boolean moved = false;
        try (Backend backend = Fixtures.cpu(); ParameterStore initial = new ParameterStore(graph, backend, spec.seed())) {
            List<NamedTensor> start = initial.export();
            for (int i = 0; i < shared.size(); i++) {
                assertArrayEquals(own.get(i).data(), shared.get(i).data(), 0f, model + ": " + shared.get(i).name());
                moved |= !Arrays.equals(start.get(i).data(), shared.get(i).data());
            }
        }
        assertTrue(moved, model + ": three steps change the weights");
    }

    @Test void lenet5TrainsTheSameBits() throws Exception {
        trainsTheSameBitsSharedAndNot(Fixtures.example("lenet5.nn"), "LeNet5", Fixtures.bundledSubset().train());
    }

    @Test void resnetSmallTrainsTheSameBits() throws Exception {
        trainsTheSameBitsSharedAndNot(Fixtures.example("resnet_small.nn"), "ResNetSmall", Fixtures.bundledSubset().train());
    }

    @Test void inceptionSmallTrainsTheSameBits() throws Exception {
        Script script = Fixtures.example("inception_small.nn");
        trainsTheSameBitsSharedAndNot(script, script.mainModel().graph().name(), Fixtures.bundledSubset().train());
    }

    @Test void rowLstmTrainsTheSameBits() throws Exception {
        Script script = Fixtures.example("rowlstm.nn");
        trainsTheSameBitsSharedAndNot(script, script.mainModel().graph().name(), Fixtures.bundledSubset().train());
    }

    /** Branches of one shape that fan out and meet again, through a split, a zero padding and a concat. */
    @Test void splitPaddedAndConcatenatedBranchesTrainTheSameBits() throws Exception {
        Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("branches.nn", """
                model Branches {
                    input x: [1, 28, 28]
                    c = conv(8, kernel=3, pad=1) -> relu
                    left = split(c, parts=2, index=0) -> conv(4, kernel=3, pad=1) -> relu
                    right = split(c, parts=2, index=1) -> zeropad(1) -> conv(4, kernel=3) -> relu
                    both = concat(left, right) -> maxpool(2)
                    sum = add(both, maxpool(c, 2)) -> relu -> flatten
                    output y = dense(10)
                }
                train Branches { data = fashion_mnist; loss = softmax_cross_entropy; optimizer = adam(lr=0.01); batch = 16; seed = 5 }
                """);
        trainsTheSameBitsSharedAndNot(script, "Branches", Fixtures.bundledSubset().train());
    }

    /** 13.6 MiB of activation gradients at batch 64 without sharing; a third of that with it. */
    @Test void resnetSmallHoldsAThirdOfTheGradientBytes() throws Exception {
        Script script = Fixtures.example("resnet_small.nn");
        TypedGraph graph = script.mainModel();
        TrainSpec spec = script.training("ResNetSmall").orElseThrow();
        long own = withSharing(false, () -> MemoryPlanner.training(graph, spec, 640, 0).plan(64).activationGradients());
        long shared = withSharing(true, () -> MemoryPlanner.training(graph, spec, 640, 0).plan(64).activationGradients());
        assertTrue(shared * 3 < own + own / 10, shared + " of " + own + " bytes");
        assertTrue(shared > 0);
    }

    /** The loss writes the output's gradient before backward and the caller reads the input's after it: neither is shared. */
    @Test void theOutputsAndInputsGradientsKeepTheirOwnBuffers() throws Exception {
        TypedGraph graph = Fixtures.example("lenet5.nn").mainModel();
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 1);
             CompiledModel m = withSharing(true, () -> CompiledModel.compileWithInputGradients(graph, backend, 4, store))) {
            String input = graph.graph().inputs().get(0).name(), output = graph.graph().outputs().get(0);
            List<String> values = graph.graph().nodes().stream().map(n -> n.name()).filter(v -> m.gradient(v) != null).toList();
            for (String v : values) {
                if (!v.equals(output)) assertNotSame(m.gradient(output), m.gradient(v), v);
                assertNotSame(m.gradient(input), m.gradient(v), v);
            }
            assertSame(m.gradOutput(), m.gradient(output));
        }
    }

    /** Inference predicts the same bits with node outputs shared, the CNNs in less memory. */
    @Test void inferencePredictsTheSameBitsInLessMemory() throws Exception {
        for (String example : List.of("resnet_small.nn", "inception_small.nn", "rowlstm.nn")) {
            Script script = Fixtures.example(example);
            TypedGraph graph = script.mainModel();
            TrainSpec spec = script.training(graph.graph().name()).orElseThrow();
            Dataset data = Fixtures.bundledSubset().test().head(20);
            float[] inputs = Arrays.copyOf(data.features(), 20 * (int) graph.graph().inputs().get(0).shape().elementCount());
            float[] own = withSharing(false, () -> predict(graph, spec, inputs));
            float[] shared = withSharing(true, () -> predict(graph, spec, inputs));
            assertArrayEquals(own, shared, 0f, example);
            long ownBytes = withSharing(false, () -> MemoryPlanner.inference(graph, 16).plan(16).activations());
            long sharedBytes = withSharing(true, () -> MemoryPlanner.inference(graph, 16).plan(16).activations());
            // The CNNs have several outputs of one shape (rowlstm's all differ: nothing to share).
            if (example.equals("rowlstm.nn")) assertEquals(ownBytes, sharedBytes, example);
            else assertTrue(sharedBytes < ownBytes, example + ": " + sharedBytes + " of " + ownBytes + " bytes");
        }
    }

    /** 20 samples through a predictor of batch 16 (a full batch and a partial one) on trained-from-seed weights. */
    private static float[] predict(TypedGraph graph, TrainSpec spec, float[] inputs) {
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, spec.seed());
             Predictor predictor = new Predictor(graph, store, 16)) {
            return predictor.predict(inputs, 20);
        }
    }

    /** An inspection compile keeps every value in its own buffer for the caller to read. */
    @Test void anInspectionCompileSharesNothing() throws Exception {
        TypedGraph graph = Fixtures.example("resnet_small.nn").mainModel();
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 1);
             CompiledModel m = withSharing(true, () -> CompiledModel.compileForInspection(graph, backend, 2, store))) {
            List<String> values = graph.graph().nodes().stream().map(n -> n.name()).toList();
            for (int i = 0; i < values.size(); i++) {
                for (int j = i + 1; j < values.size(); j++) {
                    assertNotSame(m.activation(values.get(i)), m.activation(values.get(j)), values.get(i) + ", " + values.get(j));
                }
            }
        }
    }
}
