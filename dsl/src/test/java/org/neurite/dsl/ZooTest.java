package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;

/**
 * The example networks in examples/: each parameter total is the paper's or torchvision's
 * ({@code sum(p.numel() for p in model.parameters())}, so batch-norm running statistics, which
 * are buffers there, are not counted).
 */
class ZooTest {
    static final Path EXAMPLES = Path.of("..", "examples");

    private final ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);

    private TypedGraph example(String name) throws IOException {
        Script script = loader.load(EXAMPLES.resolve(name));
        assertTrue(script.warnings().isEmpty(), loader.render(script.warnings()));
        return script.mainModel();
    }

    @Test
    void lenet5() throws IOException {
        TypedGraph g = example("lenet5.nn");
        assertEquals(61_706, g.parameterCount());
    }

    @Test
    void alexnetWithTheTwoGpuGroups() throws IOException {
        TypedGraph g = example("alexnet.nn");
        assertEquals(60_965_224, g.parameterCount());
        assertEquals(Shape.of(96, 55, 55), g.shape("conv1"));
        // Elements per sample after conv2 (its ReLU), conv3, conv4, conv5, fc6, fc7, fc8.
        List<Long> sizes = new ArrayList<>();
        for (String value : List.of("conv2.relu", "conv3.relu", "conv4.relu", "conv5.relu", "fc6.relu", "fc7.relu", "fc8")) {
            sizes.add(g.shape(value).elementCount());
        }
        assertEquals(List.of(186_624L, 64_896L, 64_896L, 43_264L, 4096L, 4096L, 1000L), sizes);
        assertEquals(2, g.graph().node("conv2").args().getInt("groups"));
        assertEquals(1, g.graph().node("conv3").args().getInt("groups"));
        assertEquals("lrn", g.graph().node("pool1.lrn").layer());
        assertEquals(2.0, g.graph().node("pool2.lrn").args().getDouble("k"));
    }

    @Test
    void vgg16() throws IOException {
        TypedGraph g = example("vgg16.nn");
        assertEquals(138_357_544, g.parameterCount());
        assertEquals(13, g.graph().nodes().stream().filter(n -> n.layer().equals("conv")).count());
        assertEquals(Shape.of(512, 7, 7), g.shape("stage5.maxpool"));
    }

    @Test
    void resnet18HasTorchvisionsCountAndNames() throws IOException {
        TypedGraph g = example("resnet18.nn");
        assertEquals(11_689_512, g.trainableParameterCount());
        List<String> names = g.params().stream().filter(p -> p.decl().trainable()).map(p -> p.fullName()).toList();
        assertEquals(62, names.size());
        assertEquals(List.of("conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.0.bn1.weight"),
                names.subList(0, 5));
        assertTrue(names.contains("layer2.0.downsample.0.weight"), names.toString());
        assertTrue(names.contains("layer4.1.bn2.bias"), names.toString());
        assertEquals(List.of("fc.weight", "fc.bias"), names.subList(60, 62));
        assertEquals(Shape.of(512, 7, 7), g.shape("layer4.1"));
    }

    @Test
    void googlenetHasTorchvisionsCountAndNames() throws IOException {
        TypedGraph g = example("googlenet.nn");
        assertEquals(6_624_904, g.trainableParameterCount());
        assertEquals(Shape.of(256, 28, 28), g.shape("inception3a"));
        assertEquals(Shape.of(1024, 7, 7), g.shape("inception5b"));
        List<String> names = g.params().stream().map(p -> p.fullName()).toList();
        assertTrue(names.contains("inception4e.branch2.1.conv.weight"), names.toString());
        assertTrue(names.contains("inception3a.branch1.bn.running_var"), names.toString());
        assertEquals(0.001, g.graph().node("conv1.bn").args().getDouble("eps"));
    }

    @Test
    void smallVariantsFitFashionMnistAndTrain() throws IOException {
        for (String name : List.of("resnet_small.nn", "inception_small.nn")) {
            Script script = loader.load(EXAMPLES.resolve(name));
            TypedGraph g = script.mainModel();
            assertEquals(Shape.of(1, 28, 28), g.graph().inputs().get(0).shape(), name);
            assertEquals(Shape.of(10), g.outputShape(), name);
            assertEquals("fashion_mnist", script.training(g.graph().name()).orElseThrow().data(), name);
        }
        assertEquals(77_754, example("resnet_small.nn").trainableParameterCount());
        assertEquals(18_002, example("inception_small.nn").trainableParameterCount());
    }

    @Test
    void resnetAndGooglenetScriptsStayShort() throws IOException {
        for (String name : List.of("resnet18.nn", "googlenet.nn")) {
            long lines = Files.readAllLines(EXAMPLES.resolve(name)).size();
            assertTrue(lines < 60, name + " has " + lines + " lines");
        }
    }
}
