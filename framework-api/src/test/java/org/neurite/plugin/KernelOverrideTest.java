package org.neurite.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.inject.Module;
import java.lang.reflect.Proxy;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * How the runtime chooses between a layer's generic kernel and a plugin's kernel for one backend:
 * by the name of the backend being compiled for, only where the override supports the
 * configuration; everything but {@code compile} stays the layer's. Conflicts fail naming both
 * classes and where they were loaded from.
 */
class KernelOverrideTest {
    /** A kernel that only says which implementation it is; these tests never run one. */
    private record Labelled(String label) implements LayerKernel {
        @Override public void forward(ForwardPass pass) { throw new AssertionError(label + " is not run here"); }

        @Override public void backward(BackwardPass pass) { throw new AssertionError(label + " is not run here"); }
    }

    /** {@code scale}: the layer whose generic kernel the overrides replace. */
    static final class Scale implements LayerType {
        @Override public String name() { return "scale"; }

        @Override public String doc() { return "Scales its input."; }

        @Override public ParamSchema schema() { return ParamSchema.empty(); }

        @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }

        @Override public LayerKernel compile(KernelContext context) { return new Labelled("generic"); }
    }

    /** The CPU kernel: only for batches of at most 8, to show the fallback. */
    static final class SmallBatchCpuScale implements KernelOverride {
        @Override public String layer() { return "scale"; }

        @Override public String backend() { return "cpu"; }

        @Override public boolean supports(KernelContext context) { return context.batch() <= 8; }

        @Override public LayerKernel compile(KernelContext context) { return new Labelled("cpu kernel"); }
    }

    static final class OtherCpuScale implements KernelOverride {
        @Override public String layer() { return "scale"; }

        @Override public String backend() { return "cpu"; }

        @Override public LayerKernel compile(KernelContext context) { return new Labelled("other cpu kernel"); }
    }

    static final class MisspelledLayerKernel implements KernelOverride {
        @Override public String layer() { return "scael"; }

        @Override public String backend() { return "cpu"; }

        @Override public LayerKernel compile(KernelContext context) { return new Labelled("never"); }
    }

    /** A backend that only has a name: enough for the dispatch, which reads nothing else. */
    private static Backend backendNamed(String name) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, method, args) -> {
            if (method.getName().equals("name")) return name;
            throw new AssertionError("the kernel dispatch called Backend." + method.getName());
        });
    }

    private static KernelContext context(String backend, int batch) {
        Backend b = backendNamed(backend);
        return new KernelContext() {
            @Override public Backend backend() { return b; }

            @Override public String nodeName() { return "s1"; }

            @Override public int batch() { return batch; }

            @Override public LayerArgs args() { return LayerArgs.empty(); }

            @Override public List<Shape> inputShapes() { return List.of(Shape.of(batch, 3)); }

            @Override public Shape outputShape() { return Shape.of(batch, 3); }

            @Override public Tensor allocate(Shape shape) { throw new AssertionError("nothing is allocated here"); }
        };
    }

    private static String compiled(LayerType type, String backend, int batch) {
        return ((Labelled) type.compile(context(backend, batch))).label();
    }

    private static NeuritePlugin layers(LayerType... types) {
        return new NeuritePlugin() {
            @Override public String name() { return "layers"; }

            @Override public Module module() {
                return new PluginModule() {
                    @Override protected void configure() { for (LayerType t : types) layer(t); }
                };
            }
        };
    }

    private static NeuritePlugin kernels(KernelOverride... overrides) {
        return new NeuritePlugin() {
            @Override public String name() { return "kernels"; }

            @Override public Module module() {
                return new PluginModule() {
                    @Override protected void configure() { for (KernelOverride k : overrides) kernel(k); }
                };
            }
        };
    }

    @Test void theOverrideRunsOnItsBackendAndTheGenericKernelEverywhereElse() {
        Scale generic = new Scale();
        SmallBatchCpuScale cpu = new SmallBatchCpuScale();
        NeuriteRuntime runtime = NeuriteRuntime.of(List.of(layers(generic), kernels(cpu)));
        LayerType scale = runtime.layers().find("scale").orElseThrow();

        assertEquals("cpu kernel", compiled(scale, "cpu", 4));
        assertEquals("generic", compiled(scale, "opencl", 4));
        assertEquals("generic", compiled(scale, "cpu", 16), "the override declines batches above 8");

        // Everything a script, a summary or a checkpoint sees is the layer's own.
        assertEquals("scale", scale.name());
        assertEquals("Scales its input.", scale.doc());
        assertEquals(Shape.of(2, 5), scale.outputShape(LayerArgs.empty(), List.of(Shape.of(2, 5))));
        assertSame(generic, runtime.referenceLayer("scale").orElseThrow());
        assertEquals(List.of(cpu), runtime.kernelOverrides("scale"));
        assertEquals(List.of(), runtime.kernelOverrides("relu"));
        assertEquals(SmallBatchCpuScale.class.getName() + " (" + PluginJars.location(Scale.class) + "/)", NeuriteRuntime.origin(cpu));
        // nn layers names the plugin that registered the layer, not the dispatch around it.
        assertEquals(Scale.class.getName() + " (" + PluginJars.location(Scale.class) + "/)", NeuriteRuntime.origin(scale));
    }

    @Test void aLayerWithoutOverridesIsRegisteredAsItIs() {
        Scale generic = new Scale();
        NeuriteRuntime runtime = NeuriteRuntime.of(List.of(layers(generic)));
        assertSame(generic, runtime.layers().find("scale").orElseThrow());
        assertEquals(List.of(), runtime.kernelOverrides());
    }

    @Test void twoKernelsForOneLayerAndBackendFailNamingBoth() {
        PluginException e = assertThrows(PluginException.class, () -> NeuriteRuntime.of(List.of(layers(new Scale()),
                kernels(new SmallBatchCpuScale()), kernels(new OtherCpuScale()))));
        String where = " (" + PluginJars.location(Scale.class) + "/)";
        assertEquals("kernel for layer 'scale' on backend 'cpu' is registered twice: by " + SmallBatchCpuScale.class.getName()
                + where + " and by " + OtherCpuScale.class.getName() + where, e.getMessage());
    }

    @Test void aKernelForALayerNoPluginRegistersFails() {
        PluginException e = assertThrows(PluginException.class, () -> NeuriteRuntime.of(List.of(layers(new Scale()),
                kernels(new MisspelledLayerKernel()))));
        assertEquals("kernel " + MisspelledLayerKernel.class.getName() + " (" + PluginJars.location(Scale.class)
                + "/) is for layer 'scael', which no plugin registers; did you mean 'scale'?", e.getMessage());
    }
}
