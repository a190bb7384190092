package org.neurite.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * torchvision's networks, exported by PyTorch with random weights, import into block scripts that
 * reproduce PyTorch's outputs. The ONNX files (47 MB to 528 MB) are not committed: the fixture script
 * makes them into target/onnx-fixtures on first use, with Debian's python3-torch and
 * python3-torchvision (.ci/run installs both); without them these tests are skipped.
 */
class TorchvisionImportTest {
    private static final Path GENERATED = Path.of("target", "onnx-fixtures");
    private static final Path SCRIPT = Path.of("..", "tools", "fixtures", "onnx", "make_onnx_fixtures.py");

    static Path fixture(String name) throws IOException, InterruptedException {
        if (Files.exists(GENERATED.resolve(name + "_io.safetensors"))) return GENERATED;
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
        Process check = new ProcessBuilder(python.toString(), "-c", "import torch, torchvision").redirectErrorStream(true).start();
        check.getInputStream().readAllBytes();
        assumeTrue(check.waitFor() == 0, "python3-torch and python3-torchvision are not installed");
        List<String> command = new ArrayList<>(List.of(python.toString(), SCRIPT.toString(), GENERATED.toString(), name));
        Process make = new ProcessBuilder(command).redirectErrorStream(true).start();
        String log = new String(make.getInputStream().readAllBytes());
        assertTrue(make.waitFor(10, TimeUnit.MINUTES) && make.exitValue() == 0, "the fixture script failed:\n" + log);
        return GENERATED;
    }

    @Test
    void resnet18ImportsWithABlockForTheBasicBlock() throws Exception {
        OnnxImporter.Imported imported = OnnxImportTest.importAndCompare(fixture("resnet18"), "resnet18", "ResNet18", 11_689_512);
        String script = imported.script();
        long lines = script.lines().count();
        assertTrue(lines < 40, "the script has " + lines + " lines:\n" + script);
        assertTrue(script.contains("block residual("), script);
        assertTrue(script.contains("layer1 = residual(64) * 2"), script);
    }

    @Test
    void googlenetImportsWithAnInceptionBlock() throws Exception {
        OnnxImporter.Imported imported = OnnxImportTest.importAndCompare(fixture("googlenet"), "googlenet", "GoogLeNet", 6_624_904);
        String script = imported.script();
        assertTrue(script.contains("    conv1 = conv_batchnorm_relu(64, 7, 3, 2)\n"), script);
        assertTrue(script.contains("    inception3a = inception(64, 96, 128, 16, 32, 32)\n"), script);
        assertTrue(script.contains("inception5b = inception("), script);
    }

    @Test
    void alexnetImports() throws Exception {
        OnnxImporter.Imported imported = OnnxImportTest.importAndCompare(fixture("alexnet"), "alexnet", "AlexNet", 61_100_840);
        // A numbered Sequential (features.0, features.3, ...) is written out, its names with underscores.
        assertTrue(imported.script().contains("    features_0 = conv(64, kernel=11, stride=4, pad=2) -> relu -> maxpool(3, stride=2)\n"),
                imported.script());
        assertTrue(imported.script().endsWith("    output classifier_6 = dense(1000)\n}\n"), imported.script());
    }

    @Test
    void vgg16Imports() throws Exception {
        // 528 MB of ONNX (138 M parameters); at 224x224 the adaptive pool to 7x7 exports as a 1x1 AveragePool.
        OnnxImporter.Imported imported = OnnxImportTest.importAndCompare(fixture("vgg16"), "vgg16", "VGG16", 138_357_544);
        String script = imported.script();
        assertTrue(script.contains("    features_2 = conv(64, kernel=3, pad=1) -> relu -> maxpool(2)\n"), script);
        assertTrue(script.contains("    features_28 = conv(512, kernel=3, pad=1) -> relu -> maxpool(2) -> avgpool(1) -> flatten\n"), script);
        assertTrue(script.endsWith("    output classifier_6 = dense(1000)\n}\n"), script);
    }
}
