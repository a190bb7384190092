package org.neurite.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.neurite.graph.GraphInput;
import org.neurite.graph.Node;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import picocli.CommandLine.Command;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn summary MODEL.nn [--batch N]}: layers, output shapes, parameters and FLOPs, and the
 * memory training and inference need at a batch size ({@link MemoryEstimate}), all from shape
 * inference alone.
 */
@Command(name = "summary", description = "Print the model's layers, output shapes, parameter counts, FLOPs and memory estimate.")
final class SummaryCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = "--batch", paramLabel = "N", description = "batch size for the memory estimate (default: the train section's)")
    Integer batch;

    @Override public Integer call() throws Exception {
        if (batch != null && batch < 1) throw new BadInputException("--batch must be at least 1, got " + batch);
        Session session = Session.open(options, false);
        PrintWriter out = spec.commandLine().getOut();
        TrainSpec train = session.trainSpec();
        MemoryEstimate memory = MemoryEstimate.of(session.graph(), batch != null ? batch : train.batch(), train.optimizer().name());
        out.print(render(session.graph(), session.script().file()));
        out.println();
        out.print(memory.render());
        out.flush();
        return ExitCodes.OK;
    }

    static String render(TypedGraph g, String file) {
        StringBuilder sb = new StringBuilder();
        sb.append("Model ").append(g.graph().name()).append("  (").append(file).append(")\n\n");
        List<String[]> rows = new java.util.ArrayList<>();
        rows.add(new String[] {"node", "layer", "output shape", "params", "FLOPs"});
        for (GraphInput in : g.graph().inputs()) {
            rows.add(new String[] {in.name(), "input", in.shape().toString(), "0", "0"});
        }
        for (Node n : g.graph().nodes()) {
            long params = g.params(n.name()).stream().mapToLong(p -> p.decl().shape().elementCount()).sum();
            rows.add(new String[] {n.name(), n.layer(), g.shape(n.name()).toString(), group(params), group(g.flops(n.name()))});
        }
        int[] width = new int[5];
        for (String[] r : rows) for (int i = 0; i < 5; i++) width[i] = Math.max(width[i], r[i].length());
        for (int r = 0; r < rows.size(); r++) {
            String[] row = rows.get(r);
            sb.append(pad(row[0], width[0], false)).append("  ").append(pad(row[1], width[1], false)).append("  ")
                    .append(pad(row[2], width[2], false)).append("  ").append(pad(row[3], width[3], true)).append("  ")
                    .append(pad(row[4], width[4], true)).append('\n');
            if (r == 0) sb.append("-".repeat(width[0] + width[1] + width[2] + width[3] + width[4] + 8)).append('\n');
        }
        sb.append('\n');
        sb.append("Total parameters: ").append(group(g.parameterCount()))
                .append(" (trainable ").append(group(g.trainableParameterCount())).append(")\n");
        sb.append("Forward FLOPs per sample: ").append(group(g.totalFlops())).append('\n');
        sb.append("Output: ").append(g.graph().outputs().get(0)).append(' ').append(g.outputShape()).append("\n\n");
        sb.append("Parameters:\n");
        int nameWidth = g.params().stream().mapToInt(p -> p.fullName().length()).max().orElse(0);
        for (ParamInfo p : g.params()) {
            sb.append("  ").append(pad(p.fullName(), nameWidth, false)).append("  ").append(p.decl().shape());
            if (!p.decl().trainable()) sb.append("  (fixed)");
            sb.append('\n');
        }
        return sb.toString();
    }

    static String group(long n) {
        return String.format(java.util.Locale.ROOT, "%,d", n);
    }

    private static String pad(String s, int w, boolean right) {
        String fill = " ".repeat(Math.max(0, w - s.length()));
        return right ? fill + s : s + fill;
    }
}
