package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.OutOfMemoryException;
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

    /** A view of {@code cpu} that reports only {@code bytes} of memory. */
    private static Backend limited(Backend cpu, long bytes) {
        return (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> method.getName().equals("memoryAvailable") ? bytes : method.invoke(cpu, args));
    }
}
