package org.neurite.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.neurite.dsl.Keywords;
import org.neurite.dsl.ScriptFormatter;
import org.neurite.dsl.ScriptLoader;
import org.neurite.graph.TypedGraph;
import org.neurite.io.AtomicFiles;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.onnx.OnnxImporter;
import org.neurite.onnx.proto.Onnx.ModelProto;
import org.neurite.plugin.NeuriteRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn import model.onnx [-o model.nn]}: an ONNX model as a readable script (chains folded,
 * repeated sub-graphs written as blocks) and its weights as safetensors beside it
 * ({@code model.safetensors}). The script is loaded and shape-checked before anything is written;
 * operators Neurite lacks are listed with the nodes that use them, exit status 2, nothing written.
 */
@Command(name = "import", description = "Turn an ONNX model into a .nn script and its weights (.safetensors).")
final class ImportCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin PluginsOption plugins = new PluginsOption();

    @Parameters(index = "0", paramLabel = "MODEL.onnx", description = "the ONNX file")
    Path onnx;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE.nn", description = "the script (default: the ONNX file's name with .nn, in the current folder); "
            + "the weights go beside it with .safetensors")
    Path output;

    @Mixin ExistingOutput existing;

    @Option(names = "--model", paramLabel = "NAME", description = "the model's name in the script (default: from the file name)")
    String modelName;

    @Override public Integer call() throws Exception {
        if (Files.isDirectory(onnx)) throw new BadInputException(onnx + " is a folder; name the .onnx file");
        if (!Files.isRegularFile(onnx)) throw new NoSuchFileException(onnx.toString());
        Path script = output != null ? output : Path.of(stem(onnx.getFileName().toString()) + ".nn");
        if (!script.toString().endsWith(".nn")) throw new BadInputException("-o must name a .nn file, got " + script);
        Path weights = script.resolveSibling(stem(script.getFileName().toString()) + ".safetensors");
        existing.refuse(script, "-o");
        existing.refuse(weights, "-o");
        String name = modelName != null ? modelName : modelName(stem(onnx.getFileName().toString()));
        if (!name.matches("[A-Za-z_][A-Za-z_0-9]*")) throw new BadInputException("--model must be an identifier, got '" + name + "'");
        // Else the script written would not load: the model's name would be read as the keyword,
        // or a call of that layer inside it as a call of the model itself.
        if (Keywords.isKeyword(name)) throw new BadInputException("--model '" + name + "' is a word of the .nn language; choose another name");
        NeuriteRuntime runtime = NeuriteRuntime.discover(plugins.folders);
        if (runtime.layers().find(name).isPresent()) throw new BadInputException("--model '" + name + "' is a layer's name; choose another name");

        ModelProto model;
        try {
            model = ModelProto.parseFrom(Files.readAllBytes(onnx));
        } catch (InvalidProtocolBufferException e) {
            throw new FileFormatException(onnx + ": not an ONNX model (" + e.getMessage() + ")");
        }
        if (!model.hasGraph()) throw new FileFormatException(onnx + ": holds no graph (is it an ONNX model?)");
        OnnxImporter.Imported imported = OnnxImporter.read(model, name);
        // In canonical form (long chains broken before an arrow), and loaded and shape-checked before anything is written.
        String text = ScriptFormatter.format(script.toString(), imported.script());
        TypedGraph graph = new ScriptLoader(runtime.layers()).parse(script.toString(), text).mainModel();
        List<NamedTensor> values = imported.weights(graph);
        SafeTensors.write(weights, values, Map.of("neurite.model", name, "neurite.source", onnx.getFileName().toString()));
        AtomicFiles.writeString(script, text);
        PrintWriter out = spec.commandLine().getOut();
        // All of them, as nn export and nn summary count: the trainable ones alone made a round trip
        // look as if batch-norm statistics had been lost.
        long trainable = graph.trainableParameterCount();
        out.printf("Wrote %s (%d lines, %d blocks) and %s: %s, %,d parameters%s%n", script, text.lines().count(),
                text.lines().filter(l -> l.startsWith("block ")).count(), weights, name, graph.parameterCount(),
                trainable == graph.parameterCount() ? "" : String.format(" (%,d trainable)", trainable));
        out.flush();
        return ExitCodes.OK;
    }

    private static String stem(String file) {
        int dot = file.lastIndexOf('.');
        return dot > 0 ? file.substring(0, dot) : file;
    }

    /** {@code resnet18} → {@code Resnet18}: the file name as an identifier with a capital first letter. */
    private static String modelName(String stem) {
        String id = stem.replaceAll("[^A-Za-z0-9_]", "_");
        if (id.isEmpty() || Character.isDigit(id.charAt(0))) id = "M" + id;
        return Character.toUpperCase(id.charAt(0)) + id.substring(1);
    }
}
