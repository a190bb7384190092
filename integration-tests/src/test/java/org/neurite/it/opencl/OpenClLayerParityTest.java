package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.neurite.backend.Backend;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.GraphInput;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.tensor.Tensor;

/**
 * The parity matrix: every registered layer type, forward (training and evaluation) and backward,
 * on the OpenCL backend against the CPU reference. Each layer runs as a one-layer model compiled
 * by the engine ({@link CompiledModel}) on both backends with the same parameters (from the same
 * seed), the same inputs and the same output gradient; the outputs, the input gradients, every
 * parameter gradient and every non-trainable parameter (batch norm's running statistics) must
 * agree within {@link #TOL}, relative + absolute ({@code TOL * (1 + |cpu|)}): float sums in a
 * different order over at most a few hundred terms.
 *
 * <p>Layers that take arguments have a script below; any other registered layer is run with no
 * arguments on a [3, 5, 4] input, so a new argument-free layer is covered the day it is
 * registered, and one that needs arguments fails here until it has a script.
 */
class OpenClLayerParityTest {
    static final double TOL = 1e-4;
    private static final int BATCH = 3;
    private static final long SEED = 11;

    /** Layer name -> a one-layer model using it in a non-trivial configuration. */
    private static final Map<String, String> SCRIPTS = new LinkedHashMap<>();

    static {
        SCRIPTS.put("conv", "input x: [4, 7, 6]\n output y = conv(6, kernel=3, stride=2, pad=1, groups=2)");
        SCRIPTS.put("dense", "input x: [13]\n output y = dense(7)");
        SCRIPTS.put("softmax", "input x: [12]\n output y = softmax");
        SCRIPTS.put("dropout", "input x: [3, 5, 4]\n output y = dropout(p=0.3)");
        SCRIPTS.put("add", "input a: [3, 5, 4]\n input b: [3, 5, 4]\n output y = add(a, b)");
        SCRIPTS.put("concat", "input a: [3, 5, 4]\n input b: [2, 5, 4]\n output y = concat(a, b, axis=0)");
        SCRIPTS.put("split", "input x: [4, 5, 6]\n output y = split(axis=2, parts=3, index=1)");
        SCRIPTS.put("zeropad", "input x: [3, 5, 4]\n output y = zeropad(pad=[1, 2])");
        SCRIPTS.put("lrn", "input x: [6, 4, 3]\n output y = lrn(size=3, alpha=0.01, k=2.0)");
        SCRIPTS.put("batchnorm", "input x: [3, 5, 4]\n output y = batchnorm");
        SCRIPTS.put("avgpool", "input x: [3, 7, 6]\n output y = avgpool(kernel=3, stride=2, pad=1)");
        SCRIPTS.put("maxpool", "input x: [3, 7, 6]\n output y = maxpool(kernel=3, stride=2, pad=1, ceil=true)");
        SCRIPTS.put("globalavgpool", "input x: [3, 5, 4]\n output y = globalavgpool");
        SCRIPTS.put("rnn", "input x: [6, 4]\n output y = rnn(5, bidirectional=true)");
        SCRIPTS.put("lstm", "input x: [6, 4]\n output y = lstm(5, layers=2)");
        SCRIPTS.put("gru", "input x: [6, 4]\n output y = gru(5, sequences=false)");
        SCRIPTS.put("embedding", "input t: [6]\n output y = embedding(num=9, dim=4)");
    }

    private static Backend cpu, cl;

    @BeforeAll static void start() {
        cl = OpenClRuns.opencl();
        cpu = OpenClRuns.cpu();
    }

    @AfterAll static void stop() {
        if (cl != null) cl.close();
        if (cpu != null) cpu.close();
    }

    @Test void theMatrixCoversEveryRegisteredLayer() {
        List<String> names = OpenClRuns.RUNTIME.layers().names();
        assertTrue(names.containsAll(SCRIPTS.keySet()), "scripts for layers that are not registered: " + SCRIPTS.keySet());
        assertTrue(names.size() >= SCRIPTS.size());
    }

    @TestFactory
    Stream<DynamicTest> everyLayerForwardAndBackward() {
        return OpenClRuns.RUNTIME.layers().names().stream().sorted().map(layer -> DynamicTest.dynamicTest(layer, () -> {
            String body = SCRIPTS.getOrDefault(layer, "input x: [3, 5, 4]\n output y = " + layer);
            compare(layer, OpenClRuns.model("model One {\n " + body + "\n}\n"));
        }));
    }

    private static void compare(String layer, TypedGraph graph) {
        try (ParameterStore cpuStore = new ParameterStore(graph, cpu, SEED);
             ParameterStore clStore = new ParameterStore(graph, cl, SEED);
             CompiledModel onCpu = CompiledModel.compileWithInputGradients(graph, cpu, BATCH, cpuStore);
             CompiledModel onCl = CompiledModel.compileWithInputGradients(graph, cl, BATCH, clStore)) {
            List<NamedTensor> initial = cpuStore.export(), initialCl = clStore.export();
            for (int i = 0; i < initial.size(); i++)
                assertArrayEquals(initial.get(i).data(), initialCl.get(i).data(), layer + ": same seed, same " + initial.get(i).name());

            SplittableRandom random = new SplittableRandom(layer.hashCode());
            List<GraphInput> inputs = graph.graph().inputs();
            for (int i = 0; i < inputs.size(); i++) {
                Tensor in = onCpu.input(i);
                // Embedding indices are integers below the vocabulary; everything else takes values in [-2, 2).
                float[] values = new float[in.size()];
                for (int e = 0; e < values.length; e++)
                    values[e] = layer.equals("embedding") ? random.nextInt(9) : (float) random.nextDouble(-2, 2);
                cpu.upload(values, in);
                cl.upload(values, onCl.input(i));
            }
            float[] dy = new float[onCpu.output().size()];
            for (int e = 0; e < dy.length; e++) dy[e] = (float) random.nextDouble(-1, 1);

            onCpu.forward(true, 5);
            onCl.forward(true, 5);
            assertClose(layer + " forward (training)", onCpu.output(), onCl.output());
            cpu.upload(dy, onCpu.gradOutput());
            cl.upload(dy, onCl.gradOutput());
            onCpu.backward();
            onCl.backward();
            int checked = 0;
            for (GraphInput in : inputs) {
                Tensor g = onCpu.gradient(in.name());
                if (g == null) continue;
                assertNotNull(onCl.gradient(in.name()), layer + ": OpenCL lacks the gradient of input " + in.name());
                assertClose(layer + " gradient of input " + in.name(), g, onCl.gradient(in.name()));
                checked++;
            }
            for (ParamInfo p : graph.params()) {
                if (p.decl().trainable()) {
                    assertClose(layer + " gradient of " + p.fullName(), cpuStore.grad(p.fullName()), clStore.grad(p.fullName()));
                } else {
                    assertClose(layer + " " + p.fullName() + " after a training step", cpuStore.value(p.fullName()), clStore.value(p.fullName()));
                }
                checked++;
            }
            if (!layer.equals("embedding")) assertTrue(checked > 0, layer + ": nothing to compare after backward");

            onCpu.forward(false, 5);
            onCl.forward(false, 5);
            assertClose(layer + " forward (evaluation)", onCpu.output(), onCl.output());
        }
    }

    private static void assertClose(String what, Tensor expectedOnCpu, Tensor actualOnCl) {
        float[] expected = cpu.download(expectedOnCpu), actual = cl.download(actualOnCl);
        assertEquals(expected.length, actual.length, what + ": size");
        List<String> misses = new ArrayList<>();
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
            if (!(err <= TOL) && misses.size() < 3) misses.add("[" + i + "] cpu " + expected[i] + " opencl " + actual[i]);
        }
        if (!misses.isEmpty()) fail(what + " differs beyond " + TOL + ": " + misses);
    }
}
