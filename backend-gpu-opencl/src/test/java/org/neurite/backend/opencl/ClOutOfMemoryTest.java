package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.diag.SourceSpan;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.Graph;
import org.neurite.graph.GraphInput;
import org.neurite.graph.LayerRegistry;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.Initializer;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;

/**
 * A model that does not fit the device: the refusal names the model (and batch), the tensor and
 * its bytes, what the backend already holds and the device's total, and what was allocated before
 * the failure is given back. The device is made small with the memory limit ({@code -Dneurite.opencl.memoryLimit}).
 */
class ClOutOfMemoryTest {
    private static final long LIMIT = 1L << 20;

    /** Input x [4]; node fc: weight [rows, 4], bias [rows], output [rows]; its kernel keeps a [batch, 4096] workspace. */
    private static TypedGraph model(String name, int rows) {
        LayerType layer = new LayerType() {
            @Override public String name() { return "wide"; }

            @Override public String doc() { return "a layer with a large saved state, for memory tests"; }

            @Override public ParamSchema schema() { return ParamSchema.empty(); }

            @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return Shape.of(rows); }

            @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
                return List.of(ParamDecl.weight("weight", Shape.of(rows, 4), Initializer.zeros()),
                        ParamDecl.bias("bias", Shape.of(rows), Initializer.zeros()));
            }

            @Override public LayerKernel compile(KernelContext context) {
                context.allocate(Shape.of(context.batch(), 4096)); // state saved for backward
                return new LayerKernel() {
                    @Override public void forward(ForwardPass pass) { throw new UnsupportedOperationException("memory tests never run"); }

                    @Override public void backward(BackwardPass pass) { throw new UnsupportedOperationException("memory tests never run"); }
                };
            }
        };
        SourceSpan here = SourceSpan.at(name + ".nn", 1, 1);
        Graph graph = new Graph(name, List.of(new GraphInput("x", Shape.of(4), here)),
                List.of(new Node("fc", "wide", LayerArgs.empty(), List.of("x"), here)), List.of("fc"));
        return TypedGraph.infer(graph, new LayerRegistry(List.of(layer)));
    }

    private static ClBackend small() {
        OpenClTests.backend(); // skipped or failed with the reason where OpenCL is missing
        return new ClBackend(OpenClTests.device(), ClProgramCache.standard(), ClConv2d.COLUMN_BUDGET, LIMIT);
    }

    private static String device(ClBackend cl) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", cl.device().globalMemoryBytes() / (double) (1L << 20));
    }

    @Test void parametersThatDoNotFitNameTheModelTheTensorAndTheAmounts() {
        try (ClBackend cl = small()) {
            OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> new ParameterStore(model("Huge", 70_000), cl, 1));
            // weight [70000, 4] = 1,120,000 bytes: more than the 1 MiB the backend may hold.
            assertEquals("the parameters of model Huge do not fit backend opencl: OpenCL device out of memory: a tensor [70000, 4] of 1.1 MiB"
                    + " (1120000 bytes) on " + cl.device().name() + " (more than the 1.0 MiB (1048576 bytes) left); this backend already holds 0.0 MiB in 0 tensors"
                    + " of the device's " + device(cl) + " (limited to 1.0 MiB by -Dneurite.opencl.memoryLimit); use a smaller batch or model",
                    e.getMessage());
            assertEquals(LIMIT, cl.memoryAvailable(), "nothing left allocated");
        }
    }

    @Test void activationsAndLayerStateThatDoNotFitAreRefusedBeforeAllocatingWithABatchThatFits() {
        try (ClBackend cl = small(); ParameterStore params = new ParameterStore(model("Wide", 2), cl, 1)) {
            long paramBytes = 4L * (8 + 2) * 2; // weight, bias and their gradients
            assertEquals(LIMIT - paramBytes, cl.memoryAvailable());
            // Per sample: x [4], fc [2] and its gradient [2], and the layer's [4096] state: 16,416 bytes, so 63 fit, 64 do not.
            OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> CompiledModel.compile(model("Wide", 2), cl, 64, params));
            // It says what the device holds of what total, and no Java-heap advice.
            assertEquals("model Wide at batch 64 needs at least 1 MiB for activations, their gradients and layer state, but backend"
                    + " opencl has 0 MiB available (holds 0.0 MiB in 4 tensors of the device's " + device(cl)
                    + " (limited to 1.0 MiB by -Dneurite.opencl.memoryLimit)); use a batch of at most 63, or a smaller model or a device"
                    + " with more memory", e.getMessage());
            assertEquals(LIMIT - paramBytes, cl.memoryAvailable(), "nothing allocated");
            OutOfMemoryException huge = assertThrows(OutOfMemoryException.class, () -> CompiledModel.compile(model("Wide", 2), cl, 100_000, params));
            assertTrue(huge.getMessage().startsWith("model Wide at batch 100000 needs at least 1,565 MiB for activations, their gradients"
                    + " and layer state, but backend opencl has 0 MiB available"), huge.getMessage());
            try (CompiledModel fits = CompiledModel.compile(model("Wide", 2), cl, 63, params)) {
                assertEquals(63 * 16_416, fits.bytesAllocated());
                assertEquals(LIMIT - paramBytes - fits.bytesAllocated(), cl.memoryAvailable());
            }
        }
    }

    /**
     * A device with less memory than it reported (another process took some; here a view of the
     * backend that reports more than its limit): the compile passes the planner's check and fails
     * on the allocation, naming the model, the batch and the tensor, and gives back what it had
     * allocated.
     */
    @Test void anAllocationTheDeviceRefusesAfterTheCheckNamesTheTensorAndGivesBackWhatWasAllocated() {
        try (ClBackend cl = small(); ParameterStore params = new ParameterStore(model("Wide", 2), cl, 1)) {
            long before = cl.memoryAvailable();
            Backend optimistic = (Backend) java.lang.reflect.Proxy.newProxyInstance(Backend.class.getClassLoader(),
                    new Class<?>[] {Backend.class}, (proxy, method, args) -> {
                        if (method.getName().equals("memoryAvailable")) return Long.MAX_VALUE;
                        try {
                            return method.invoke(cl, args);
                        } catch (java.lang.reflect.InvocationTargetException thrown) {
                            throw thrown.getCause();
                        }
                    });
            OutOfMemoryException e = assertThrows(OutOfMemoryException.class, () -> CompiledModel.compile(model("Wide", 2), optimistic, 64, params));
            String m = e.getMessage();
            assertTrue(m.startsWith("model Wide at batch 64 does not fit backend opencl: OpenCL device out of memory: a tensor [64, 4096]"
                    + " of 1.0 MiB (1048576 bytes) on " + cl.device().name() + " (more than the 1.0 MiB ("), m);
            assertTrue(m.contains(" bytes) left); this backend already holds 0.0 MiB in "), m);
            assertTrue(m.endsWith(" tensors of the device's " + device(cl) + " (limited to 1.0 MiB by -Dneurite.opencl.memoryLimit);"
                    + " use a smaller batch or model"), m);
            assertEquals(before, cl.memoryAvailable(), "the model gave back what it had allocated");
        }
    }

    @Test void theMemoryLimitPropertyReadsByteCounts() {
        assertEquals(1073741824L, ClMemory.parseBytes("1073741824", "p"));
        assertEquals(512L << 20, ClMemory.parseBytes("512m", "p"));
        assertEquals(2L << 30, ClMemory.parseBytes("2G", "p"));
        assertEquals(64L << 10, ClMemory.parseBytes("64k", "p"));
        assertEquals("p must be a byte count such as 1073741824, 512m or 2g, got '12x'",
                assertThrows(IllegalArgumentException.class, () -> ClMemory.parseBytes("12x", "p")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClMemory.parseBytes("-5m", "p"));
    }
}
