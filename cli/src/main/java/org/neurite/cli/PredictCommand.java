package org.neurite.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;
import org.neurite.data.DatasetLocator;
import org.neurite.data.ImageFiles;
import org.neurite.data.IdxReader;
import org.neurite.data.Normalization;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.TypedGraph;
import org.neurite.io.AtomicFiles;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;
import org.neurite.train.DataSource;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn predict MODEL.nn --weights W --input X [--output Y]}: runs a trained model on inputs
 * from a safetensors file (tensor {@code x}, or its only tensor: [N, ...input] or one sample), an
 * IDX image file, or pictures, PNG, JPEG, BMP, GIF, TIFF or WebP (scaled to [0, 1], converted to the input's channels and
 * resized to its height and width). Writes the outputs as safetensors ({@code y}, and for
 * classifiers {@code probabilities} and {@code classes}) or JSON (class, label and probabilities
 * per input); without {@code --output} prints one line per input. With {@code --json} standard
 * output is one JSON object: {@code model}, {@code count}, and either {@code predictions} (the
 * rows a {@code .json} output file holds) or, with {@code --output}, {@code output} (the file).
 */
@Command(name = "predict", description = "Run a trained model on inputs (safetensors, IDX, pictures) and write its outputs.")
final class PredictCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "weights (.safetensors)")
    Path weights;

    @Option(names = "--input", required = true, arity = "1..*", paramLabel = "FILE",
            description = "a .safetensors file (tensor x), an IDX image file, or pictures (PNG, JPEG, BMP, GIF, TIFF, WebP)")
    List<Path> inputs;

    @Option(names = "--output", paramLabel = "FILE", description = "where to write the outputs: .safetensors or .json (default: print)")
    Path output;

    @Mixin ExistingOutput existing;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "256", description = "inference batch size (default 256)")
    int batch;

    @Mixin JsonOutput json = new JsonOutput();

    @Override public Integer call() throws Exception {
        if (batch < 1) throw new BadInputException("--batch must be at least 1, got " + batch);
        if (output != null && !output.toString().endsWith(".safetensors") && !output.toString().endsWith(".json")) {
            throw new BadInputException("--output must end in .safetensors or .json, got " + output);
        }
        if (output != null) existing.refuse(output, "--output");
        Session session = Session.open(options, true);
        TypedGraph graph = session.graph();
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        float[] x = readInputs(inputs, sample);
        int n = x.length / sample.size();
        MemoryCheck.beforeInference(session.backend(), graph, Math.max(1, Math.min(batch, n)), n, true);
        float[] y;
        try (ParameterStore store = new ParameterStore(graph, session.backend(), 0);
             Predictor predictor = new Predictor(graph, store, Math.min(batch, n))) {
            Checkpoints.loadWeights(weights, store);
            y = predict(predictor, x, n, sample.size(), graph.outputShape().size());
        }
        Shape outShape = graph.outputShape();
        int width = outShape.size();
        boolean classifier = outShape.rank() == 1 && width > 1;
        List<String> labels = classifier ? classNames(session, width) : List.of();
        float[] probabilities = classifier ? softmaxRows(y, width) : null;
        int[] classes = classifier ? Predictor.argmax(y, width) : null;
        PrintWriter out = spec.commandLine().getOut();
        if (json.enabled()) {
            ObjectNode doc = JsonOutput.object();
            doc.put("model", graph.graph().name());
            doc.put("count", n);
            if (output == null) doc.set("predictions", rows(n, y, width, classes, probabilities, labels));
            else doc.put("output", write(graph, n, y, classes, probabilities, labels).toString());
            JsonOutput.print(spec, doc);
            return ExitCodes.OK;
        }
        if (output == null) {
            for (int i = 0; i < n; i++) {
                if (classifier) {
                    out.printf(Locale.ROOT, "%d: class %d%s (p=%.4f)%n", i, classes[i],
                            classes[i] < labels.size() ? " " + labels.get(classes[i]) : "", probabilities[i * width + classes[i]]);
                } else {
                    out.printf(Locale.ROOT, "%d: %s%n", i, java.util.Arrays.toString(java.util.Arrays.copyOfRange(y, i * width, (i + 1) * width)));
                }
            }
        } else {
            out.println("Wrote " + n + " predictions to " + write(graph, n, y, classes, probabilities, labels));
        }
        out.flush();
        return ExitCodes.OK;
    }

    /**
     * Writes the outputs to {@code --output}: safetensors ({@code y}, and for classifiers
     * {@code probabilities} and {@code classes}) or JSON ({@link #rows}). {@code classes} and
     * {@code probabilities} are null for a model that is not a classifier.
     */
    private Path write(TypedGraph graph, int n, float[] y, int[] classes, float[] probabilities, List<String> labels) throws IOException {
        Shape outShape = graph.outputShape();
        if (output.toString().endsWith(".safetensors")) {
            List<NamedTensor> tensors = new ArrayList<>();
            tensors.add(new NamedTensor("y", outShape.withBatch(n), y));
            if (classes != null) {
                tensors.add(new NamedTensor("probabilities", outShape.withBatch(n), probabilities));
                float[] c = new float[n];
                for (int i = 0; i < n; i++) c[i] = classes[i];
                tensors.add(new NamedTensor("classes", Shape.of(n), c));
            }
            SafeTensors.write(output, tensors, java.util.Map.of("neurite.model", graph.graph().name()));
        } else {
            ArrayNode rows = rows(n, y, outShape.size(), classes, probabilities, labels);
            AtomicFiles.writeString(output, JsonOutput.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(rows) + "\n");
        }
        return output;
    }

    /**
     * One JSON object per input: {@code index}, and for a classifier {@code class}, {@code label}
     * (when the class has a name) and {@code probabilities}, else {@code output} (the raw values).
     */
    private static ArrayNode rows(int n, float[] y, int width, int[] classes, float[] probabilities, List<String> labels) {
        ArrayNode rows = JsonOutput.MAPPER.createArrayNode();
        for (int i = 0; i < n; i++) {
            ObjectNode row = rows.addObject();
            row.put("index", i);
            if (classes != null) {
                row.put("class", classes[i]);
                if (classes[i] < labels.size()) row.put("label", labels.get(classes[i]));
                ArrayNode p = row.putArray("probabilities");
                for (int c = 0; c < width; c++) p.add(probabilities[i * width + c]);
            } else {
                ArrayNode v = row.putArray("output");
                for (int c = 0; c < width; c++) v.add(y[i * width + c]);
            }
        }
        return rows;
    }

    /**
     * Outputs for {@code n} samples, one batch at a time, with a live progress bar on a terminal
     * when there is more than one batch.
     */
    private float[] predict(Predictor predictor, float[] x, int n, int inSize, int outSize) {
        if (n <= batch) return predictor.predict(x, n);
        float[] y = new float[n * outSize];
        // With --json standard output holds the document alone: no bar.
        try (LiveBar bar = LiveBar.open(spec.commandLine().getOut(), OutputMode.interactive() && !json.enabled(), "predict", n, "inputs")) {
            for (int from = 0; from < n; from += batch) {
                int count = Math.min(batch, n - from);
                float[] part = predictor.predict(java.util.Arrays.copyOfRange(x, from * inSize, (from + count) * inSize), count);
                System.arraycopy(part, 0, y, from * outSize, part.length);
                bar.update(from + count, "");
            }
        }
        return y;
    }

    /** Every input file's samples, concatenated, each of {@code sample} floats. */
    static float[] readInputs(List<Path> files, Shape sample) throws IOException {
        List<float[]> parts = new ArrayList<>();
        long total = 0;
        for (Path file : files) {
            float[] part = readInput(file, sample);
            parts.add(part);
            total += part.length;
        }
        if (total > Integer.MAX_VALUE) throw new BadInputException("too many inputs: " + total + " values");
        float[] all = new float[(int) total];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    private static float[] readInput(Path file, Shape sample) throws IOException {
        if (Files.isDirectory(file)) {
            throw new BadInputException("--input " + file + " is a folder; give its files (--input " + file.resolve("*.png") + ")");
        }
        if (!Files.isRegularFile(file)) throw new java.nio.file.NoSuchFileException(file.toString());
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".safetensors")) return fromSafeTensors(file, sample);
        if (ImageFiles.isImage(file)) return fromImage(file, sample);
        if (looksLikeIdx(file)) {
            NamedTensor images = IdxReader.readImages(file, Normalization.NONE);
            if (images.shape().sizeFrom(1) != sample.size()) {
                throw new BadInputException(file + " holds images of " + images.shape().dropFirst() + " but the model's input is " + sample);
            }
            return images.data();
        }
        throw new BadInputException(file + ": unknown input format (use .safetensors, an IDX image file, or a picture: .png, .jpg, .bmp, .gif, .tif, .webp)");
    }

    private static float[] fromSafeTensors(Path file, Shape sample) throws IOException {
        SafeTensors.Contents contents = SafeTensors.read(file);
        NamedTensor x = contents.get("x");
        if (x == null && contents.tensors().size() == 1) x = contents.tensors().get(0);
        if (x == null) throw new BadInputException(file + ": no tensor named 'x' (and more than one tensor)");
        Shape s = x.shape();
        boolean batched = s.rank() == sample.rank() + 1 && s.dropFirst().equals(sample);
        if (!batched && !s.equals(sample)) {
            throw new BadInputException(file + ": tensor '" + x.name() + "' is " + s + " but the model takes " + sample + " or [N, "
                    + sample.toString().substring(1));
        }
        return x.data();
    }

    /** A picture as [C, H, W] in [0, 1], converted as training converts pictures ({@link ImageFiles}). */
    private static float[] fromImage(Path file, Shape sample) throws IOException {
        if (!ImageFiles.isImageShape(sample)) {
            throw new BadInputException("the model's input " + sample + " is not an image [1 or 3, H, W]; " + file + " cannot feed it");
        }
        return ImageFiles.read(file, sample);
    }

    /**
     * The names of the classes the script's train section learns (a known dataset's, an image
     * folder's, a CSV's labels) when they are one per output: none for a model without a train
     * section (a script {@code nn import} wrote, say), whose defaults name a dataset it never saw.
     */
    private static List<String> classNames(Session session, int outputs) throws IOException {
        if (session.script().training(session.graph().graph().name()).isEmpty()) return List.of();
        List<String> names = trainedClassNames(session);
        return names.size() == outputs ? names : List.of();
    }

    private static List<String> trainedClassNames(Session session) throws IOException {
        TrainSpec spec = session.trainSpec();
        DataSource source = session.runtime().dataSources().find(spec.data()).orElse(null);
        if (source == null) return DatasetLocator.classNames(spec.data());
        Path scriptFolder = Path.of(session.script().file()).toAbsolutePath().getParent();
        return source.classNames(spec.dataArgs(), scriptFolder);
    }

    /** IDX files start with two zero bytes and a type byte (0x08 for the unsigned bytes of images), possibly gzipped. */
    private static boolean looksLikeIdx(Path file) throws IOException {
        byte[] head = new byte[4];
        try (InputStream raw = Files.newInputStream(file)) {
            InputStream in = raw;
            byte[] magic = raw.readNBytes(2);
            InputStream rest = new java.io.SequenceInputStream(new java.io.ByteArrayInputStream(magic), raw);
            in = magic.length == 2 && (magic[0] & 0xFF) == 0x1F && (magic[1] & 0xFF) == 0x8B ? new GZIPInputStream(rest) : rest;
            if (in.readNBytes(head, 0, 4) < 4) return false;
        } catch (java.util.zip.ZipException e) {
            return false;
        }
        return head[0] == 0 && head[1] == 0 && head[2] == 0x08;
    }

    private static float[] softmaxRows(float[] y, int width) {
        float[] p = new float[y.length];
        for (int r = 0; r < y.length / width; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < width; c++) max = Math.max(max, y[r * width + c]);
            double sum = 0;
            for (int c = 0; c < width; c++) sum += Math.exp(y[r * width + c] - max);
            for (int c = 0; c < width; c++) p[r * width + c] = (float) (Math.exp(y[r * width + c] - max) / sum);
        }
        return p;
    }
}
