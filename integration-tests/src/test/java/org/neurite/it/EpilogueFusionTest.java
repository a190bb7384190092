package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.train.TrainSpec;

/**
 * The engine's fusion of an activation into the epilogue of the dense or convolution layer before
 * it ({@link CompiledModel}'s class comment): on the CPU backend, which runs the unfused ops in
 * sequence for a fused call, training fused and unfused gives the same bits; the fused compile
 * stores no pre-activation value, and no gradient for an activation whose backward the max pooling
 * or dense layer after it applies.
 */
class EpilogueFusionTest {
    /** {@code body} run with {@link CompiledModel#FUSION_PROPERTY} set to {@code fuse}. */
    static <T> T withFusion(boolean fuse, Supplier<T> body) {
        return Fixtures.withProperty(CompiledModel.FUSION_PROPERTY, Boolean.toString(fuse), body);
    }

    /** Four SGD steps of batch 64 from the script's seed; the weights after them. */
    private static List<NamedTensor> train(TypedGraph graph, TrainSpec spec, Dataset data, boolean fuse) {
        return withFusion(fuse, () -> Fixtures.trainedWeights(graph, spec, data));
    }

    private static void assertSameWeights(List<NamedTensor> fused, List<NamedTensor> unfused) {
        assertEquals(unfused.size(), fused.size());
        for (int i = 0; i < fused.size(); i++) {
            assertArrayEquals(unfused.get(i).data(), fused.get(i).data(), 0f, fused.get(i).name());
        }
    }

    private static void trainsTheSameBitsFusedAndUnfused(TypedGraph graph, TrainSpec spec) throws Exception {
        Dataset data = Fixtures.bundledSubset().train().head(4 * spec.batch());
        List<NamedTensor> unfused = train(graph, spec, data, false);
        List<NamedTensor> fused = train(graph, spec, data, true);
        assertSameWeights(fused, unfused);
        // The run moved the weights (four steps), so equal weights are not the initial ones twice.
        try (Backend backend = Fixtures.cpu(); ParameterStore initial = new ParameterStore(graph, backend, spec.seed())) {
            List<NamedTensor> start = initial.export();
            boolean moved = false;
            for (int i = 0; i < start.size() && !moved; i++) moved = !Arrays.equals(start.get(i).data(), fused.get(i).data());
            assertTrue(moved, "four steps change the weights");
        }
    }

    @Test void lenet5TrainsTheSameBitsFusedAndUnfused() throws Exception {
        Script script = Fixtures.example("lenet5.nn");
        trainsTheSameBitsFusedAndUnfused(script.mainModel(), script.training("LeNet5").orElseThrow());
    }

    @Test void fashionCnnTrainsTheSameBitsFusedAndUnfused() throws Exception {
        Script script = Fixtures.example("fashion_cnn.nn");
        trainsTheSameBitsFusedAndUnfused(script.mainModel(), script.training("FashionCNN").orElseThrow());
    }

    /** Sigmoid and tanh take their derivative from the output; relu after a frozen convolution too. */
    @Test void sigmoidAndTanhEpiloguesTrainTheSameBits() throws Exception {
        Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("act.nn", """
                model Act {
                    input x: [1, 28, 28]
                    a = conv(4, kernel=3, pad=1) -> tanh -> maxpool(2)
                    b = conv(4, kernel=3, trainable=false) -> relu -> flatten
                    h = dense(16) -> sigmoid
                    output y = dense(10)
                }
                train Act { data = fashion_mnist; loss = softmax_cross_entropy; optimizer = sgd(lr=0.1, momentum=0.9); batch = 32; seed = 3 }
                """);
        TypedGraph graph = script.mainModel();
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 1);
             CompiledModel m = withFusion(true, () -> CompiledModel.compile(graph, backend, 2, store))) {
            assertEquals(3, m.fusions().size(), "conv -> tanh, conv -> relu, dense -> sigmoid: " + m.fusions());
            assertEquals(2, m.foldedBackwards().size(), "tanh -> maxpool, sigmoid -> dense: " + m.foldedBackwards());
        }
        trainsTheSameBitsFusedAndUnfused(graph, script.training("Act").orElseThrow());
    }

    /** Batch norm -> relu in every residual block, add -> relu at their ends. */
    @Test void resnetSmallTrainsTheSameBitsFusedAndUnfused() throws Exception {
        Script script = Fixtures.example("resnet_small.nn");
        TypedGraph graph = script.mainModel();
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 1);
             CompiledModel m = withFusion(true, () -> CompiledModel.compile(graph, backend, 2, store))) {
            // The stem's and each block's first batchnorm -> relu, and each block's add -> relu; every producer applies
            // the relu's derivative itself, so no pre-activation value has a gradient.
            assertEquals(7, m.fusions().size(), m.fusions().toString());
            assertEquals(3, m.fusions().keySet().stream().filter(p -> graph.type(p).name().equals("add")).count(), m.fusions().toString());
            for (String producer : m.fusions().keySet()) assertEquals(null, m.gradient(producer), producer);
        }
        trainsTheSameBitsFusedAndUnfused(graph, script.training("ResNetSmall").orElseThrow());
    }

    /**
     * Batch norm applies its activation's derivative itself: relu, tanh (whose max pooling then
     * folds nothing in) and sigmoid, and the batch norm of a model input, which has no input gradient.
     */
    @Test void batchNormAppliesItsActivationsBackward() throws Exception {
        Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("bn.nn", """
                model BnAct {
                    input x: [1, 28, 28]
                    a = batchnorm -> relu -> conv(4, kernel=3, pad=1, bias=false)
                    b = batchnorm -> tanh -> maxpool(2) -> conv(4, kernel=3, bias=false)
                    c = batchnorm -> sigmoid -> flatten
                    output y = dense(10)
                }
                train BnAct { data = fashion_mnist; loss = softmax_cross_entropy; optimizer = sgd(lr=0.1, momentum=0.9); batch = 32; seed = 3 }
                """);
        TypedGraph graph = script.mainModel();
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 1);
             CompiledModel unfused = withFusion(false, () -> CompiledModel.compile(graph, backend, 2, store));
             CompiledModel m = withFusion(true, () -> CompiledModel.compile(graph, backend, 2, store))) {
            assertEquals(3, m.fusions().size(), "three batchnorm -> activation: " + m.fusions());
            assertTrue(m.foldedBackwards().isEmpty(), "the batch norm applies tanh's derivative, not the max pooling: " + m.foldedBackwards());
            for (var e : m.fusions().entrySet()) {
                assertEquals(null, m.gradient(e.getKey()), "no gradient of the pre-activation " + e.getKey());
                assertEquals(unfused.gradient(e.getValue()).shape(), m.gradient(e.getValue()).shape());
            }
        }
        trainsTheSameBitsFusedAndUnfused(graph, script.training("BnAct").orElseThrow());
    }

    @Test void fusedCompileStoresNoPreActivationValue() throws Exception {
        TypedGraph graph = Fixtures.example("lenet5.nn").mainModel();
        int batch = 8;
        try (Backend backend = Fixtures.cpu(); ParameterStore store = new ParameterStore(graph, backend, 1);
             CompiledModel unfused = withFusion(false, () -> CompiledModel.compile(graph, backend, batch, store));
             CompiledModel fused = withFusion(true, () -> CompiledModel.compile(graph, backend, batch, store));
             CompiledModel inspected = CompiledModel.compileForInspection(graph, backend, batch, store)) {
            Map<String, String> fusions = fused.fusions();
            // Every relu of LeNet-5 follows a conv or a dense layer that nothing else reads, and is read by one max
            // pooling or dense layer alone, whose backward applies its derivative.
            assertEquals(4, fusions.size(), fusions.toString());
            assertEquals(4, fused.foldedBackwards().size(), fused.foldedBackwards().toString());
            assertTrue(unfused.fusions().isEmpty() && inspected.fusions().isEmpty() && unfused.foldedBackwards().isEmpty());
            // Not stored: the two convolutions' [6, 28, 28] and [16, 10, 10], the dense layers' 120 and 84 floats per
            // sample; nor the gradients of the relus' outputs.
            long preActivations = 4L * batch * (6 * 28 * 28 + 16 * 10 * 10 + 120 + 84);
            long foldedGradients = preActivations;
            assertEquals(unfused.bytesAllocated() - preActivations - foldedGradients, fused.bytesAllocated());
            for (String folded : fused.foldedBackwards().keySet()) {
                assertEquals(null, fused.gradient(folded), folded);
                assertEquals(unfused.activation(folded).shape(), unfused.gradient(folded).shape());
            }
            for (var e : fusions.entrySet()) {
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> fused.activation(e.getKey()));
                assertTrue(refused.getMessage().contains("epilogue of '" + e.getValue() + "'"), refused.getMessage());
                assertEquals(unfused.activation(e.getKey()).shape(), inspected.activation(e.getKey()).shape());
            }
        }
    }
}
