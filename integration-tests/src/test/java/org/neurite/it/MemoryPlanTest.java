package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.backend.Slice;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;

/** The planner refuses a batch that cannot fit, with the estimate, before allocating. */
class MemoryPlanTest {
    @Test
    void vggAtAHugeBatchIsRefusedWithTheEstimateAndABatchThatFits() throws IOException {
        TypedGraph vgg = Fixtures.example("vgg16.nn").mainModel();
        // VGG-16 at 224x224 keeps ~28.7 million activation floats per sample (conv and relu outputs are
        // separate buffers), doubled for their gradients: 230,010,688 bytes.
        long perSample = CompiledModel.estimateBytes(vgg, 1);
        assertEquals(230_010_688L, perSample);
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", org.neurite.plugin.BackendOptions.defaults(), java.util.List.of(), w -> {})) {
            Backend small = limited(cpu, 1L << 30);
            TypedGraph lenet = Fixtures.example("lenet5.nn").mainModel();
            try (ParameterStore store = new ParameterStore(lenet, cpu, 1)) {
                OutOfMemoryException e = assertThrows(OutOfMemoryException.class,
                        () -> CompiledModel.compile(vgg, small, 1024, store));
                assertTrue(e.getMessage().startsWith("model VGG16 at batch 1024 needs at least "), e.getMessage());
                assertTrue(e.getMessage().contains("but backend cpu has 1,024 MiB available; use a batch of at most "
                        + ((1L << 30) / perSample)), e.getMessage());
            }
        }
    }

    /**
     * An inference compile (prediction, evaluation) holds no gradients: the same forward output,
     * bit for bit, in roughly half the memory of a training compile, and backward refuses.
     */
    @Test
    void inferenceCompileHasNoGradientBuffersAndTheSameOutput() throws IOException {
        TypedGraph lenet = Fixtures.example("lenet5.nn").mainModel();
        assertEquals(CompiledModel.estimateBytes(lenet, 8) - CompiledModel.estimateBytes(lenet, 8, true),
                CompiledModel.estimateBytes(lenet, 8, true) - 4L * 8 * 28 * 28, "gradients: one per node output");
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", org.neurite.plugin.BackendOptions.defaults(), java.util.List.of(), w -> {});
             ParameterStore store = new ParameterStore(lenet, cpu, 7);
             CompiledModel training = CompiledModel.compile(lenet, cpu, 8, store);
             CompiledModel inference = CompiledModel.compileForInference(lenet, cpu, 8, store)) {
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
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> method.getName().equals("memoryAvailable") ? bytes : method.invoke(cpu, args));
    }
}
