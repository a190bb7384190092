package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.neurite.backend.Backend;
import org.neurite.cli.viz.Colormap;
import org.neurite.cli.viz.ImageGrid;
import org.neurite.cli.viz.PngFiles;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn viz}: pictures of what a network computes and learned.
 * <ul>
 *   <li>{@code nn viz filters MODEL.nn [--weights W] [--layer c1] -o filters.png}: a conv layer's
 *       kernels as an image grid (the first conv layer unless {@code --layer} names one).</li>
 *   <li>{@code nn viz features MODEL.nn [--weights W] --input IMG -o DIR}: the feature maps after
 *       every layer whose output is still an image ([C, H, W]: convolutions, activations,
 *       pooling, normalisation), one PNG per node with a tile per channel.</li>
 *   <li>{@code nn viz apply MODEL.nn [--weights W] --input IMG -o DIR}: runs the model on an image
 *       and writes each output ([1 or 3, H, W]) as an image with the input's scale ([0, 1], clamped),
 *       e.g. the filtered images of {@code examples/filters.nn}.</li>
 *   <li>{@code nn viz samples MODEL.nn [-o samples.png] [--count 16] [--epoch 1]}: training samples
 *       as the network sees them, augmented ({@link VizSamplesCommand}).</li>
 * </ul>
 * Without {@code --weights} the model's initial weights are used: constants written in the script
 * ({@code conv(..., weights=[...])}) and seeded random values elsewhere.
 */
@Command(name = "viz", description = "Draw a model's conv filters, its feature maps on an image, its image outputs, or its training samples.",
        subcommands = {VizCommand.Filters.class, VizCommand.Features.class, VizCommand.Apply.class, VizSamplesCommand.class})
final class VizCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing what to draw (filters, features, apply, samples)");
    }

    /** Options every viz command shares: the model and its weights. */
    static final class WeightsOption {
        @Option(names = "--weights", paramLabel = "FILE", description = "weights (.safetensors); default: the script's initial weights")
        Path weights;
    }

    /** A parameter store for the session's model, holding the given weights or the initial ones. */
    private static ParameterStore store(Session session, Path weights) throws java.io.IOException {
        ParameterStore store = new ParameterStore(session.graph(), session.backend(), session.trainSpec().seed());
        try {
            if (weights != null) Checkpoints.loadWeights(weights, store);
        } catch (RuntimeException | java.io.IOException e) {
            store.close();
            throw e;
        }
        return store;
    }

    private static String weightsNote(Session session, Path weights) {
        return weights != null ? "weights " + weights.getFileName() : "initial weights (seed " + session.trainSpec().seed() + ")";
    }

    /**
     * Runs the model forward on one image in evaluation mode; the caller reads activations from
     * the returned model and closes it.
     */
    private static CompiledModel forward(Session session, ParameterStore store, Path input) throws java.io.IOException {
        TypedGraph graph = session.graph();
        if (graph.graph().inputs().size() != 1) {
            throw new BadInputException("model " + graph.graph().name() + " takes " + graph.graph().inputs().size()
                    + " inputs; viz feeds one image");
        }
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        float[] x = PredictCommand.readInputs(List.of(input), sample);
        if (x.length != sample.size()) throw new BadInputException(input + " holds " + x.length / sample.size() + " samples; give one image");
        CompiledModel model = CompiledModel.compileForInspection(graph, session.backend(), 1, store);
        session.backend().upload(x, model.input(0));
        model.forward(false, 0);
        return model;
    }

    /** Refuses an -o whose name says another format: the picture is PNG whatever the name. */
    static void requirePngName(Path output) {
        if (!output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")) {
            throw new BadInputException("-o must name a .png file (the picture is a PNG), got " + output);
        }
    }

    /** Refuses an -o folder that is a file (the pictures go inside it). */
    static void requireFolder(Path output) {
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new BadInputException("-o " + output + " is a file; the pictures go into a folder: name a folder (it is made if missing)");
        }
    }

    /** A file name for a node: its name with anything but letters, digits, '.', '_' and '-' replaced. */
    static String fileName(String node) {
        return node.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    @Command(name = "filters", description = "Draw a conv layer's kernels (default: the first conv layer) as an image grid.")
    static final class Filters implements Callable<Integer> {
        /** Grids larger than this many filters (rows) or input channels (columns) are cut. */
        static final int MAX_FILTERS = 64;
        static final int MAX_INPUTS = 16;

        @Mixin ModelOptions options;
        @Mixin WeightsOption weights;
        @Spec CommandSpec spec;

        @Option(names = "--layer", paramLabel = "NODE", description = "the conv node to draw (default: the first conv)")
        String layer;

        @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE.png", description = "where to write the picture")
        Path output;

        @Mixin ExistingOutput existing;

        @Override public Integer call() throws Exception {
            requirePngName(output);
            existing.refuse(output, "-o");
            PngFiles.headless();
            Session session = Session.open(options, true);
            TypedGraph graph = session.graph();
            Node node = convNode(graph, layer);
            String param = node.name() + ".weight";
            float[] w;
            try (ParameterStore store = store(session, weights.weights)) {
                if (store.value(param) == null || store.value(param).shape().rank() != 4) {
                    throw new BadInputException("node '" + node.name() + "' (" + node.layer() + ") has no kernels [out, in, kh, kw] to draw");
                }
                w = session.backend().download(store.value(param));
            }
            Shape s = graph.params(node.name()).stream().filter(p -> p.fullName().equals(param)).findFirst().orElseThrow().decl().shape();
            var picture = draw(graph.graph().name(), param, s, w, weightsNote(session, weights.weights));
            PngFiles.write(picture, output);
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "Wrote %s: %d filters of %s from %s%n", output, s.dim(0), s.dropFirst(), param);
            out.flush();
            return ExitCodes.OK;
        }

        /** The named node, or the first conv; a clear message when there is none. */
        static Node convNode(TypedGraph graph, String layer) {
            if (layer != null) {
                return graph.graph().nodes().stream().filter(n -> n.name().equals(layer)).findFirst()
                        .orElseThrow(() -> new BadInputException("no node '" + layer + "' in model " + graph.graph().name() + "; its conv nodes: "
                                + String.join(", ", graph.graph().nodes().stream().filter(n -> n.layer().equals("conv")).map(Node::name).toList())));
            }
            return graph.graph().nodes().stream().filter(n -> n.layer().equals("conv")).findFirst()
                    .orElseThrow(() -> new BadInputException("model " + graph.graph().name() + " has no conv layer"));
        }

        /**
         * Kernels [out, in, kh, kw] as a grid: one colour tile per filter for RGB inputs, one grey
         * tile per filter for one input channel, else a row per filter and a column per input
         * channel. Each filter is scaled from its own min (black) to max (white).
         */
        static java.awt.image.BufferedImage draw(String model, String param, Shape s, float[] w, String source) {
            int out = s.dim(0);
            int in = s.dim(1);
            int kh = s.dim(2);
            int kw = s.dim(3);
            int taps = in * kh * kw;
            List<ImageGrid.Tile> tiles = new ArrayList<>();
            int columns;
            String title = String.format(Locale.ROOT, "%s: %d filters of %d x %d x %d", param, out, in, kh, kw);
            String layout;
            if (in == 1 || in == 3) {
                for (int o = 0; o < out; o++) {
                    tiles.add(new ImageGrid.Tile(java.util.Arrays.copyOfRange(w, o * taps, (o + 1) * taps), in, kh, kw, Integer.toString(o)));
                }
                columns = ImageGrid.columnsFor(out);
                layout = in == 3 ? "RGB, each filter scaled from its min to max" : "each filter scaled from its min (black) to max (white)";
            } else {
                int rows = Math.min(out, MAX_FILTERS);
                columns = Math.min(in, MAX_INPUTS);
                for (int o = 0; o < rows; o++) {
                    double lo = Double.POSITIVE_INFINITY;
                    double hi = Double.NEGATIVE_INFINITY;
                    for (int k = o * taps; k < (o + 1) * taps; k++) {
                        lo = Math.min(lo, w[k]);
                        hi = Math.max(hi, w[k]);
                    }
                    for (int c = 0; c < columns; c++) {
                        int from = o * taps + c * kh * kw;
                        tiles.add(new ImageGrid.Tile(java.util.Arrays.copyOfRange(w, from, from + kh * kw), 1, kh, kw, o + ":" + c, lo, hi));
                    }
                }
                layout = "tile f:c is filter f on input channel c, each filter scaled from its min to max"
                        + (rows < out || columns < in ? String.format(Locale.ROOT, "; first %d filters, %d channels", rows, columns) : "");
            }
            return ImageGrid.render(title, model + ", " + source + "; " + layout, tiles, columns, Colormap.GREY);
        }
    }

    @Command(name = "features", description = "Draw the feature maps after every conv, activation and pooling layer for one input image.")
    static final class Features implements Callable<Integer> {
        /** At most this many channels per node are drawn. */
        static final int MAX_CHANNELS = 64;

        @Mixin ModelOptions options;
        @Mixin WeightsOption weights;
        @Spec CommandSpec spec;

        @Option(names = "--input", required = true, paramLabel = "IMG", description = "the picture (PNG, JPEG, BMP, GIF, TIFF, WebP; resized to the model's input)")
        Path input;

        @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "folder for the pictures (one PNG per node)")
        Path output;

        @Mixin ExistingOutput existing;

        @Override public Integer call() throws Exception {
            PngFiles.headless();
            Session session = Session.open(options, true);
            TypedGraph graph = session.graph();
            String model = graph.graph().name();
            String note = model + " on " + input.getFileName() + ", " + weightsNote(session, weights.weights);
            Backend backend = session.backend();
            // The pictures, in order: the input (index 0), then every node whose value is still an image.
            List<Picture> pictures = new ArrayList<>();
            pictures.add(new Picture(graph.graph().inputs().get(0).name(), "input"));
            for (Node n : graph.graph().nodes()) {
                Shape s = graph.shape(n.name());
                if (s.rank() == 3 && s.dim(1) * s.dim(2) >= 4) pictures.add(new Picture(n.name(), n.layer()));
            }
            requireFolder(output);
            for (int i = 0; i < pictures.size(); i++) existing.refuse(picture(i, pictures.get(i).value()), "-o");
            List<Path> written = new ArrayList<>();
            try (ParameterStore store = store(session, weights.weights); CompiledModel m = forward(session, store, input)) {
                Files.createDirectories(output); // only once the input has gone through: a refused one leaves no folder
                for (int i = 0; i < pictures.size(); i++) written.add(write(m, backend, graph, pictures.get(i).value(), pictures.get(i).layer(), i, note));
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "Wrote %d pictures to %s: %s%n", written.size(), output,
                    String.join(", ", written.stream().map(p -> p.getFileName().toString()).toList()));
            out.flush();
            return ExitCodes.OK;
        }

        /** One node's activation [1, C, H, W] as a grid of C viridis tiles (the input: as the image itself). */
        private Path write(CompiledModel m, Backend backend, TypedGraph graph, String value, String layer, int index, String note)
                throws java.io.IOException {
            Shape s = graph.shape(value);
            float[] a = backend.download(m.activation(value));
            int channels = s.dim(0);
            int h = s.dim(1);
            int w = s.dim(2);
            List<ImageGrid.Tile> tiles = new ArrayList<>();
            String title;
            String subtitle;
            if (index == 0) {
                if (channels != 1 && channels != 3) throw new BadInputException("input '" + value + "' " + s + " is not an image");
                tiles.add(new ImageGrid.Tile(a, channels, h, w, null, 0, 1));    // the input's own [0, 1] scale
                title = String.format(Locale.ROOT, "%s (input): %d x %d x %d", value, channels, h, w);
                subtitle = note + "; as the model sees it";
            } else {
                int shown = Math.min(channels, MAX_CHANNELS);
                for (int c = 0; c < shown; c++) {
                    tiles.add(new ImageGrid.Tile(java.util.Arrays.copyOfRange(a, c * h * w, (c + 1) * h * w), 1, h, w, Integer.toString(c)));
                }
                title = String.format(Locale.ROOT, "%s (%s): %d channels of %d x %d", value, layer, channels, h, w);
                subtitle = note + "; each channel from its min (dark) to max (yellow)"
                        + (shown < channels ? String.format(Locale.ROOT, "; first %d channels", shown) : "");
            }
            var picture = ImageGrid.render(title, subtitle, tiles, ImageGrid.columnsFor(tiles.size()),
                    index == 0 ? Colormap.GREY : Colormap.VIRIDIS);
            Path file = picture(index, value);
            PngFiles.write(picture, file);
            return file;
        }

        /** A picture to draw: the value (the input or a node's output) and the layer that made it. */
        private record Picture(String value, String layer) {}

        /** The file of picture {@code index}, of {@code value}. */
        private Path picture(int index, String value) {
            return output.resolve(String.format(Locale.ROOT, "%02d_%s.png", index, fileName(value)));
        }
    }

    @Command(name = "apply", description = "Run the model on an image and write each image-shaped output as a PNG (e.g. examples/filters.nn).")
    static final class Apply implements Callable<Integer> {
        @Mixin ModelOptions options;
        @Mixin WeightsOption weights;
        @Spec CommandSpec spec;

        @Option(names = "--input", required = true, paramLabel = "IMG", description = "the picture (PNG, JPEG, BMP, GIF, TIFF, WebP; resized to the model's input)")
        Path input;

        @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "folder for the output images (<output>.png)")
        Path output;

        @Mixin ExistingOutput existing;

        @Override public Integer call() throws Exception {
            PngFiles.headless();
            Session session = Session.open(options, true);
            TypedGraph graph = session.graph();
            for (String name : graph.graph().outputs()) {
                Shape s = graph.shape(name);
                if (s.rank() != 3 || (s.dim(0) != 1 && s.dim(0) != 3)) {
                    throw new BadInputException("output '" + name + "' is " + s + ", not an image [1 or 3, height, width]");
                }
                existing.refuse(output.resolve(fileName(name) + ".png"), "-o");
            }
            requireFolder(output);
            List<String> written = new ArrayList<>();
            try (ParameterStore store = store(session, weights.weights); CompiledModel m = forward(session, store, input)) {
                Files.createDirectories(output); // only once the input has gone through: a refused one leaves no folder
                for (String name : graph.graph().outputs()) {
                    Shape s = graph.shape(name);
                    float[] y = session.backend().download(m.activation(name));
                    var image = s.dim(0) == 1 ? PngFiles.grey(y, 0, s.dim(1), s.dim(2)) : PngFiles.rgb(y, 0, s.dim(1), s.dim(2));
                    Path file = output.resolve(fileName(name) + ".png");
                    PngFiles.write(image, file);
                    written.add(file.getFileName().toString());
                }
            }
            PrintWriter out = spec.commandLine().getOut();
            out.printf(Locale.ROOT, "Wrote %s to %s%n", String.join(", ", written), output);
            out.flush();
            return ExitCodes.OK;
        }
    }
}
