package org.neurite.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.inject.Module;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamSchema;
import org.neurite.tensor.Shape;

/**
 * A plugin's layer must be callable: its {@code name()} a lower-case identifier. A null name or
 * one no script can write fails the runtime with the layer's class and jar, as a
 * {@link PluginException} (one line for {@code nn}), not an exception from inside a map.
 */
class LayerNameTest {

    /** A layer that returns whatever name it was given. */
    static final class Named implements LayerType {
        private final String name;

        Named(String name) { this.name = name; }

        @Override public String name() { return name; }

        @Override public String doc() { return "Passes its input on."; }

        @Override public ParamSchema schema() { return ParamSchema.empty(); }

        @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }

        @Override public LayerKernel compile(KernelContext context) { throw new AssertionError("not compiled here"); }
    }

    private static NeuritePlugin layer(LayerType type) {
        return new NeuritePlugin() {
            @Override public String name() { return "named-layers"; }

            @Override public Module module() {
                return new PluginModule() {
                    @Override protected void configure() { layer(type); }
                };
            }
        };
    }

    private static String refusal(String name) {
        return assertThrows(PluginException.class, () -> NeuriteRuntime.of(List.of(layer(new Named(name))))).getMessage();
    }

    @Test void aNullNameIsRefusedNamingTheLayer() {
        assertEquals("layer " + Named.class.getName() + " (" + PluginJars.location(Named.class) + "/) is named null: a layer's name()"
                + " must be a lower-case identifier ([a-z][a-z0-9_]*), the name scripts call it by", refusal(null));
    }

    @Test void namesNoScriptCanCallAreRefused() {
        for (String name : new String[] {"Bad Name", "Swish", "", "2x", "my-layer", "_hidden"}) {
            String message = refusal(name);
            assertEquals("layer " + Named.class.getName() + " (" + PluginJars.location(Named.class) + "/) is named '" + name + "'",
                    message.substring(0, message.indexOf(':')), name);
        }
    }

    @Test void lowerCaseIdentifiersAreTaken() {
        for (String name : new String[] {"swish", "conv3d", "my_layer"}) {
            try (NeuriteRuntime runtime = NeuriteRuntime.of(List.of(layer(new Named(name))))) {
                assertEquals(name, runtime.layers().find(name).orElseThrow().name());
            }
        }
    }
}
