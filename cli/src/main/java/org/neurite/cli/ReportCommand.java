package org.neurite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.neurite.io.AtomicFiles;
import org.neurite.io.FileErrors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn report RUN_DIR}: writes {@code RUN_DIR/report.html}, one page that describes a run of
 * {@code nn train}: the final metrics and every epoch's, the plots, the graph (drawn by Graphviz
 * when {@code dot} is on the PATH, inlined as SVG; else its DOT text), the model summary with the
 * memory estimate, the command and deployment that repeat the run, the script, and links to the
 * run's files. The page is self-contained apart from those files, which sit next to it: inline
 * CSS, no scripts, no fonts or anything else from the network. It refers only to files that exist,
 * so a run without a confusion matrix (a regression model) simply has no such section.
 */
@Command(name = "report", description = "Write RUN_DIR/report.html: metrics, plots, graph, summary, command and deployment of a training run.")
final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "a folder nn train wrote (runs/<model> by default)")
    Path run;

    @Spec CommandSpec spec;

    /** The plots nn train may have drawn, in the order the page shows them, with captions. */
    private static final List<String[]> PLOTS = List.of(
            new String[] {"loss.png", "Loss per epoch, train and test."},
            new String[] {"accuracy.png", "Accuracy per epoch, train and test."},
            new String[] {"confusion.png", "Confusion matrix on the test split: rows are true classes, columns predictions."},
            new String[] {"grad_norms.png", "Gradient norm per time step of each recurrent layer (log scale)."});

    /** Files worth a link, in this order, when present. */
    private static final List<String> FILES = List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl", EvaluationReport.FILE, "model.nn",
            "summary.txt", "graph.dot", "command.txt", "deployment.yaml", "grad_norms.csv");

    @Override public Integer call() throws Exception {
        if (!Files.isDirectory(run)) throw new BadInputException(run + " is not a folder");
        Path metricsFile = run.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metricsFile)) {
            throw new BadInputException(run + " is not a run folder of nn train: it has no metrics.jsonl");
        }
        List<JsonNode> records = MetricsHistory.records(metricsFile);
        String summary = read("summary.txt");
        String model = modelName(summary, run);
        String html = page(model, records, summary);
        Path report = run.resolve("report.html");
        AtomicFiles.writeString(report, html);
        PrintWriter out = spec.commandLine().getOut();
        out.println("Wrote " + report);
        out.flush();
        return ExitCodes.OK;
    }

    private String page(String model, List<JsonNode> records, String summary) throws IOException, InterruptedException {
        StringBuilder h = new StringBuilder(16_384);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(esc(model)).append(": Neurite training run</title>\n")
                .append("<style>\n").append(CSS).append("</style>\n</head>\n<body>\n<main>\n");
        h.append("<header><h1>").append(esc(model)).append("</h1><p class=\"sub\">Training run in <code>")
                .append(esc(run.toAbsolutePath().normalize().toString())).append("</code>");
        if (!records.isEmpty()) {
            h.append(" &middot; ").append(records.size()).append(records.size() == 1 ? " epoch" : " epochs");
            String time = records.get(records.size() - 1).path("time").asText("");
            if (!time.isEmpty()) h.append(" &middot; last epoch finished ").append(esc(time));
        }
        h.append("</p></header>\n");

        if (!records.isEmpty()) finalMetrics(h, kept(records), records);
        JsonNode evaluation = EvaluationReport.read(run.resolve(EvaluationReport.FILE));
        if (evaluation != null) perClass(h, evaluation);

        StringBuilder figures = new StringBuilder();
        for (String[] plot : PLOTS) {
            if (Files.isRegularFile(run.resolve(plot[0]))) {
                figures.append("<figure><img src=\"").append(esc(plot[0])).append("\" alt=\"").append(esc(plot[1]))
                        .append("\"><figcaption>").append(esc(plot[1])).append("</figcaption></figure>\n");
            }
        }
        if (figures.length() > 0) h.append("<section><h2>Plots</h2>\n<div class=\"figures\">\n").append(figures).append("</div></section>\n");

        if (!records.isEmpty()) epochTable(h, records);

        String dot = read("graph.dot");
        if (dot != null) {
            h.append("<section><h2>Graph</h2>\n");
            String svg = graphviz(dot);
            if (svg != null) {
                h.append("<div class=\"graph\">").append(svg).append("</div>\n");
            } else {
                h.append("<p class=\"note\">Graphviz's <code>dot</code> is not on the PATH, so here is the graph as DOT text "
                        + "(install graphviz and run <code>nn report</code> again to see it drawn).</p>\n<pre class=\"dot\">")
                        .append(esc(dot)).append("</pre>\n");
            }
            h.append("</section>\n");
        }
        if (summary != null) h.append("<section><h2>Model summary</h2>\n<pre>").append(esc(summary)).append("</pre></section>\n");

        String command = read("command.txt");
        String deployment = read("deployment.yaml");
        if (command != null || deployment != null) {
            h.append("<section><h2>How to repeat this run</h2>\n");
            if (command != null) h.append("<h3>Command</h3>\n<pre>").append(esc(command)).append("</pre>\n");
            if (deployment != null) h.append("<h3>Deployment</h3>\n<pre>").append(esc(deployment)).append("</pre>\n");
            h.append("</section>\n");
        }
        String script = read("model.nn");
        if (script != null) h.append("<section><h2>Script</h2>\n<pre>").append(esc(script)).append("</pre></section>\n");

        h.append("<section><h2>Files</h2>\n<ul class=\"files\">\n");
        for (String f : FILES) {
            Path p = run.resolve(f);
            if (Files.isRegularFile(p)) {
                h.append("<li><a href=\"").append(esc(f)).append("\">").append(esc(f)).append("</a> <span class=\"size\">")
                        .append(MemoryEstimate.bytes(Files.size(p))).append("</span></li>\n");
            }
        }
        h.append("</ul></section>\n");
        h.append("<footer>Written by <code>nn report</code> at ").append(esc(Instant.now().toString())).append(".</footer>\n");
        h.append("</main>\n</body>\n</html>\n");
        return h.toString();
    }

    /**
     * The record of the epoch whose weights the run kept: the last one marked {@code kept} (under
     * {@code keep = best}), else the last.
     */
    static JsonNode kept(List<JsonNode> records) {
        for (int i = records.size() - 1; i >= 0; i--) if (records.get(i).path("kept").asBoolean(false)) return records.get(i);
        return records.get(records.size() - 1);
    }

    /**
     * Cards with the kept epoch's test, validation and train results (the last epoch's, unless the
     * run kept its best), the time spent and the throughput.
     */
    private static void finalMetrics(StringBuilder h, JsonNode last, List<JsonNode> records) {
        double seconds = 0;
        for (JsonNode r : records) seconds += MetricsHistory.number(r, "epoch_seconds");
        h.append("<section><h2>Final metrics</h2>\n");
        if (last.has("kept")) {
            h.append("<p class=\"note\">The weights kept (<code>model.safetensors</code>) are those of epoch ").append(last.path("epoch").asInt())
                    .append(", the best on the validation split; these are its figures.</p>\n");
        }
        h.append("<div class=\"cards\">\n");
        double testAccuracy = MetricsHistory.number(last, "test_accuracy");
        if (!Double.isNaN(testAccuracy)) card(h, "test accuracy", percent(testAccuracy));
        double top5 = MetricsHistory.number(last, "test_top5");
        if (!Double.isNaN(top5)) card(h, "test top-5 accuracy", percent(top5));
        card(h, "test loss", number(MetricsHistory.number(last, "test_loss")));
        double valAccuracy = MetricsHistory.number(last, "val_accuracy");
        if (!Double.isNaN(valAccuracy)) card(h, "validation accuracy", percent(valAccuracy));
        if (last.has("val_loss")) card(h, "validation loss", number(MetricsHistory.number(last, "val_loss")));
        double trainAccuracy = MetricsHistory.number(last, "train_accuracy");
        if (!Double.isNaN(trainAccuracy)) card(h, "train accuracy", percent(trainAccuracy));
        card(h, "train loss", number(MetricsHistory.number(last, "train_loss")));
        card(h, "epochs (" + last.path("step").asText() + " steps)", last.path("epoch").asText());
        card(h, "training time (without tests)", String.format(Locale.ROOT, "%.1f s", seconds));
        card(h, "samples/s (last epoch)", String.format(Locale.ROOT, "%,.0f", MetricsHistory.number(last, "samples_per_second")));
        h.append("</div></section>\n");
    }

    /** Precision, recall, F1 and support per class of the test split, from the run's {@code evaluation.json}. */
    private static void perClass(StringBuilder h, JsonNode evaluation) {
        JsonNode classes = evaluation.path("classes");
        if (!classes.isArray() || classes.isEmpty()) return;
        h.append("<section><h2>Per class (test split");
        if (evaluation.has("epoch")) h.append(", epoch ").append(evaluation.path("epoch").asInt());
        h.append(")</h2>\n<p class=\"note\">Macro-averaged F1 ").append(number(MetricsHistory.number(evaluation, "macro_f1")))
                .append(". Precision: of the samples predicted as the class, the share that are; recall: of the class's samples, the share"
                        + " predicted as it.</p>\n<table>\n<thead><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th>"
                        + "<th>support</th></tr></thead>\n<tbody>\n");
        for (JsonNode c : classes) {
            h.append("<tr><td>").append(esc(c.has("name") ? c.path("name").asText() : c.path("index").asText()))
                    .append("</td><td>").append(number(MetricsHistory.number(c, "precision")))
                    .append("</td><td>").append(number(MetricsHistory.number(c, "recall")))
                    .append("</td><td>").append(number(MetricsHistory.number(c, "f1")))
                    .append("</td><td>").append(c.path("support").asLong()).append("</td></tr>\n");
        }
        h.append("</tbody></table></section>\n");
    }

    private static void card(StringBuilder h, String label, String value) {
        h.append("<div class=\"card\"><div class=\"value\">").append(esc(value)).append("</div><div class=\"label\">")
                .append(esc(label)).append("</div></div>\n");
    }

    private static void epochTable(StringBuilder h, List<JsonNode> records) {
        boolean classifier = !Double.isNaN(MetricsHistory.number(records.get(0), "train_accuracy"));
        boolean scheduled = records.stream().anyMatch(r -> r.has("lr"));   // a schedule changed the rate
        boolean validated = records.stream().anyMatch(r -> r.has("val_loss"));
        JsonNode best = kept(records).has("kept") ? kept(records) : null;   // marked only when the run kept its best epoch
        h.append("<section><h2>Every epoch</h2>\n<table>\n<thead><tr><th>epoch</th>");
        if (scheduled) h.append("<th>lr</th>");
        h.append("<th>train loss</th>");
        if (classifier) h.append("<th>train accuracy</th>");
        if (validated) h.append("<th>val loss</th>");
        if (validated && classifier) h.append("<th>val accuracy</th>");
        h.append("<th>test loss</th>");
        if (classifier) h.append("<th>test accuracy</th>");
        h.append("<th>samples/s</th><th>seconds</th></tr></thead>\n<tbody>\n");
        for (JsonNode r : records) {
            h.append("<tr><td>").append(r.path("epoch").asInt()).append(r == best ? " (kept)" : "");
            if (scheduled) h.append("</td><td>").append(r.has("lr") ? TrainReporter.learningRate((float) r.path("lr").asDouble()) : "-");
            h.append("</td><td>").append(number(MetricsHistory.number(r, "train_loss")));
            if (classifier) h.append("</td><td>").append(percent(MetricsHistory.number(r, "train_accuracy")));
            if (validated) h.append("</td><td>").append(number(MetricsHistory.number(r, "val_loss")));
            if (validated && classifier) h.append("</td><td>").append(percent(MetricsHistory.number(r, "val_accuracy")));
            h.append("</td><td>").append(number(MetricsHistory.number(r, "test_loss")));
            if (classifier) h.append("</td><td>").append(percent(MetricsHistory.number(r, "test_accuracy")));
            h.append("</td><td>").append(String.format(Locale.ROOT, "%,.0f", MetricsHistory.number(r, "samples_per_second")))
                    .append("</td><td>").append(String.format(Locale.ROOT, "%.1f", MetricsHistory.number(r, "epoch_seconds")))
                    .append("</td></tr>\n");
        }
        h.append("</tbody></table></section>\n");
    }

    private static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** The model's name from the summary's first line ("Model LeNet5  (file)"), else the folder's name. */
    static String modelName(String summary, Path run) {
        if (summary != null && summary.startsWith("Model ")) {
            String rest = summary.substring(6);
            int end = rest.indexOf(' ');
            return end < 0 ? rest.strip() : rest.substring(0, end);
        }
        Path name = run.toAbsolutePath().normalize().getFileName();
        return name == null ? "run" : name.toString();
    }

    private String read(String file) throws IOException {
        Path p = run.resolve(file);
        return Files.isRegularFile(p) ? FileErrors.readUtf8(p) : null;
    }

    /**
     * The graph as inline SVG from {@code dot -Tsvg}, without the XML prolog and doctype (not
     * allowed inside HTML); null when Graphviz is missing, fails or takes over a minute.
     */
    static String graphviz(String dot) throws IOException, InterruptedException {
        Graphviz.Svg svg = Graphviz.toSvg(dot, ProcessBuilder.Redirect.DISCARD, 60);
        if (!svg.ok()) return null;
        String text = new String(svg.bytes(), StandardCharsets.UTF_8);
        int start = text.indexOf("<svg");
        return start < 0 ? null : text.substring(start);
    }

    /** Text for HTML content and attribute values. */
    static String esc(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    private static final String CSS = """
            :root { --ink: #1d2330; --muted: #5b6473; --line: #dfe3ea; --accent: #1f77b4; --bg: #f6f7f9; }
            * { box-sizing: border-box; }
            body { margin: 0; background: var(--bg); color: var(--ink);
                   font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
            main { max-width: 1100px; margin: 0 auto; padding: 32px 24px 48px; }
            header h1 { margin: 0; font-size: 30px; }
            .sub { margin: 4px 0 0; color: var(--muted); }
            section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin-top: 22px; }
            h2 { margin: 0 0 12px; font-size: 19px; }
            h3 { margin: 16px 0 6px; font-size: 15px; color: var(--muted); }
            .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; }
            .card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
            .card .value { font-size: 22px; font-weight: 600; color: var(--accent); }
            .card .label { color: var(--muted); font-size: 13px; }
            .figures { display: flex; flex-direction: column; align-items: center; gap: 22px; }
            figure { margin: 0; max-width: 100%; }
            figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
            figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
            table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
            th, td { text-align: right; padding: 5px 10px; border-bottom: 1px solid var(--line); }
            th:first-child, td:first-child { text-align: left; }
            th { color: var(--muted); font-weight: 600; }
            pre { background: #f3f4f7; border: 1px solid var(--line); border-radius: 6px; padding: 12px; overflow-x: auto;
                  font: 13px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
            code { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 13px; }
            .graph { overflow-x: auto; text-align: center; }
            .graph svg { max-width: 100%; height: auto; }
            .note { color: var(--muted); }
            .files { columns: 2; padding-left: 18px; }
            .size { color: var(--muted); font-size: 13px; }
            footer { color: var(--muted); font-size: 13px; margin-top: 24px; }
            """;
}
