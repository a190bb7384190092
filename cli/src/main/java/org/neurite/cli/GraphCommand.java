package org.neurite.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.neurite.dsl.GraphDot;
import org.neurite.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn graph MODEL.nn [-o FILE.dot|FILE.svg]}: the shape-checked graph as Graphviz DOT
 * (the dsl's {@link GraphDot}: nodes with layer and output shape, block calls as clusters). DOT
 * goes to standard output or to {@code -o FILE}; a name ending in {@code .svg} is rendered by
 * Graphviz's {@code dot}, which must then be on the PATH. Script warnings go to standard error.
 */
@Command(name = "graph", description = "Write the model's graph as Graphviz DOT (or SVG when -o ends in .svg).")
final class GraphCommand implements Callable<Integer> {
    @Mixin ModelOptions options;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "write to FILE (.dot or .gv, or .svg through Graphviz's dot)")
    Path output;

    @Mixin ExistingOutput existing;

    @Spec CommandSpec spec;

    @Override public Integer call() throws Exception {
        if (output != null) {
            // The format follows the name: DOT text in a .png would be a file no viewer opens.
            String file = output.getFileName().toString();
            if (!file.endsWith(".svg") && !file.endsWith(".dot") && !file.endsWith(".gv")) {
                throw new BadInputException("-o must name a .dot, .gv or .svg file, got " + output);
            }
            existing.refuse(output, "-o");
        }
        Session session = Session.open(options, false, spec.commandLine().getErr());
        String name = session.graph().graph().name();
        String dot = GraphDot.render(session.graph(), session.script().blockCalls(name));
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(dot);
            out.flush();
        } else if (output.getFileName().toString().endsWith(".svg")) {
            byte[] svg = svg(dot);
            if (svg == null) return ExitCodes.RUNTIME_FAILURE;
            AtomicFiles.write(output, stream -> stream.write(svg));
        } else {
            AtomicFiles.writeString(output, dot);
        }
        return ExitCodes.OK;
    }

    /** Runs {@code dot -Tsvg} on the text; null (after saying why) when Graphviz is missing or fails. */
    private byte[] svg(String dot) throws IOException, InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        Graphviz.Svg svg = Graphviz.toSvg(dot, ProcessBuilder.Redirect.INHERIT, 0);
        if (svg.ok()) return svg.bytes();
        err.println(svg.failure() == Graphviz.Failure.NOT_FOUND
                ? "nn graph: Graphviz's 'dot' is not on the PATH; install graphviz, or write DOT with -o FILE.dot"
                : "nn graph: dot failed with exit status " + svg.exitStatus());
        err.flush();
        return null;
    }
}
