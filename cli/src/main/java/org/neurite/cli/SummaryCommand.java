package org.neurite.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.neurite.engine.Trainers;
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
 * inference alone; with {@code --json} the same as one JSON object ({@link #json}).
 */
@Command(name = "summary", description = "Print the model's layers, output shapes, parameter counts, FLOPs and memory estimate.")
final class SummaryCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = "--batch", paramLabel = "N", description = "batch size for the memory estimate (default: the train section's)")
    Integer batch;

    @Mixin JsonOutput json = new JsonOutput();

    @Override public Integer call() throws Exception {
        if (batch != null && batch < 1) throw new BadInputException("--batch must be at least 1, got " + batch);
        Session session = Session.open(options, false);
        TrainSpec train = session.trainSpec();
        MemoryEstimate memory = MemoryEstimate.of(session.graph(), batch != null ? batch : train.batch(), train, Trainers.of(session.runtime()));
        if (json.enabled()) {
            JsonOutput.print(spec, json(session.graph(), session.script().file(), memory));
            return ExitCodes.OK;
        }
        PrintWriter out = spec.commandLine().getOut();
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

    /**
     * The summary as JSON: {@code model}, {@code file}, {@code inputs} and {@code outputs} (name,
     * shape), {@code nodes} (name, layer, inputs, shape, params, flops), the totals
     * {@code parameters}, {@code trainable_parameters} and {@code flops_per_sample},
     * {@code parameter_tensors} (name, shape, trainable) and {@code memory} in bytes.
     */
    static ObjectNode json(TypedGraph g, String file, MemoryEstimate memory) {
        ObjectNode doc = JsonOutput.object();
        doc.put("model", g.graph().name());
        doc.put("file", file);
        ArrayNode inputs = doc.putArray("inputs");
        for (GraphInput in : g.graph().inputs()) inputs.addObject().put("name", in.name()).set("shape", JsonOutput.shape(in.shape()));
        ArrayNode nodes = doc.putArray("nodes");
        for (Node n : g.graph().nodes()) {
            ObjectNode node = nodes.addObject();
            node.put("name", n.name());
            node.put("layer", n.layer());
            ArrayNode from = node.putArray("inputs");
            n.inputs().forEach(from::add);
            node.set("shape", JsonOutput.shape(g.shape(n.name())));
            node.put("params", g.params(n.name()).stream().mapToLong(p -> p.decl().shape().elementCount()).sum());
            node.put("flops", g.flops(n.name()));
        }
        ArrayNode outputs = doc.putArray("outputs");
        for (String out : g.graph().outputs()) outputs.addObject().put("name", out).set("shape", JsonOutput.shape(g.shape(out)));
        doc.put("parameters", g.parameterCount());
        doc.put("trainable_parameters", g.trainableParameterCount());
        doc.put("flops_per_sample", g.totalFlops());
        ArrayNode tensors = doc.putArray("parameter_tensors");
        for (ParamInfo p : g.params()) {
            tensors.addObject().put("name", p.fullName()).put("trainable", p.decl().trainable()).set("shape", JsonOutput.shape(p.decl().shape()));
        }
        doc.set("memory", memory.json());
        return doc;
    }

    static String group(long n) {
        return String.format(java.util.Locale.ROOT, "%,d", n);
    }

    private static String pad(String s, int w, boolean right) {
        String fill = " ".repeat(Math.max(0, w - s.length()));
        return right ? fill + s : s + fill;
    }
}
