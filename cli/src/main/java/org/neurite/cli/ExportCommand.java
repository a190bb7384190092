package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.io.AtomicFiles;
import org.neurite.io.NamedTensor;
import org.neurite.onnx.OnnxExporter;
import org.neurite.onnx.proto.Onnx.ModelProto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn export MODEL.nn --weights W [-o model.onnx] [--opset N]}: the model and its weights as
 * an ONNX file for inference, with a dynamic batch dimension and Neurite's parameter names as
 * initializer names ({@code docs/onnx.md}). A layer that cannot be exported is named with its
 * position; then nothing is written and the exit status is 2.
 */
@Command(name = "export", description = "Write the model and its weights as an ONNX file (inference).")
final class ExportCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "weights (.safetensors)")
    Path weights;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "the ONNX file (default: the script's name with .onnx, in the current folder)")
    Path output;

    @Option(names = "--opset", paramLabel = "N", description = "ONNX opset version, "
            + OnnxExporter.MIN_OPSET + " to " + OnnxExporter.MAX_OPSET + " (default " + OnnxExporter.DEFAULT_OPSET + ")")
    int opset = OnnxExporter.DEFAULT_OPSET;

    @Mixin ExistingOutput existing;

    @Override public Integer call() throws Exception {
        if (opset < OnnxExporter.MIN_OPSET || opset > OnnxExporter.MAX_OPSET) {
            throw new BadInputException("--opset must be from " + OnnxExporter.MIN_OPSET + " to " + OnnxExporter.MAX_OPSET + ", got " + opset);
        }
        Path target = output != null ? output : defaultOutput(options.script);
        if (!target.toString().endsWith(".onnx")) throw new BadInputException("-o must name a .onnx file, got " + target);
        existing.refuse(target, "-o");
        Session session = Session.open(options, true);
        TypedGraph graph = session.graph();
        List<NamedTensor> values;
        try (ParameterStore store = new ParameterStore(graph, session.backend(), 0)) {
            Checkpoints.loadWeights(weights, store);
            values = store.export();
        }
        ModelProto model = OnnxExporter.export(graph, values, opset);
        AtomicFiles.write(target, model::writeTo);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("Wrote %s: %s, opset %d, %d nodes, %,d parameters%n", target, graph.graph().name(), opset,
                model.getGraph().getNodeCount(), graph.parameterCount());
        out.flush();
        return ExitCodes.OK;
    }

    private static Path defaultOutput(Path script) {
        String name = script.getFileName().toString();
        return Path.of((name.endsWith(".nn") ? name.substring(0, name.length() - 3) : name) + ".onnx");
    }
}
