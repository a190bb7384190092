package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.neurite.cli.viz.Colormap;
import org.neurite.cli.viz.ImageGrid;
import org.neurite.cli.viz.PngFiles;
import org.neurite.data.Dataset;
import org.neurite.data.EpochOrder;
import org.neurite.data.augment.AugmentationPipeline;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSpec;
import org.neurite.tensor.Shape;
import org.neurite.train.AugmentSpec;
import org.neurite.train.Augmentations;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn viz samples MODEL.nn [-o samples.png] [--count 16] [--epoch 1]}: the first training
 * samples of an epoch, in the order that epoch visits them and transformed by the train section's
 * {@code augment = [...]} exactly as training transforms them, drawn as a grid of images labelled
 * with their class; so a user sees what the network sees. Pixels are drawn on the data's own
 * [0, 1] scale (clamped), grey for one channel, colour for three. An existing picture is kept
 * unless {@code --overwrite}; the new one is written atomically.
 */
@Command(name = "samples", description = "Draw the first training samples of an epoch as the network sees them (augmented as the train section says).")
final class VizSamplesCommand implements Callable<Integer> {
    /** Most samples one grid holds (16 x 16 tiles). */
    static final int MAX_COUNT = 256;

    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE.png", defaultValue = "samples.png",
            description = "where to write the picture (default: ${DEFAULT-VALUE})")
    Path output;

    @Option(names = "--count", paramLabel = "N", defaultValue = "16", description = "how many samples to draw, 1 to " + MAX_COUNT + " (default: ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--epoch", paramLabel = "E", defaultValue = "1", description = "which epoch's order and augmentation, counted from 1 (default: ${DEFAULT-VALUE})")
    int epoch;

    @Option(names = "--data", paramLabel = "DIR", description = "folder with the dataset's IDX files")
    Path data;

    @Mixin ExistingOutput existing;

    @Override public Integer call() throws Exception {
        if (count < 1 || count > MAX_COUNT) throw new BadInputException("--count must be 1 to " + MAX_COUNT + ", got " + count);
        if (epoch < 1) throw new BadInputException("--epoch counts from 1, got " + epoch);
        VizCommand.requirePngName(output);
        existing.refuse(output, "-o");
        PngFiles.headless();
        Session session = Session.open(options, false);
        TypedGraph graph = session.graph();
        Shape sample = graph.shape(graph.graph().inputs().get(0).name());
        if (sample.rank() != 3 || (sample.dim(0) != 1 && sample.dim(0) != 3)) {
            throw new BadInputException("model " + graph.graph().name() + " takes " + sample + ", not images [1 or 3, height, width]; "
                    + "there are no pictures to draw");
        }
        TrainSpec train = session.trainSpec();
        Dataset dataset = session.datasets(train, data, null).train();
        if (dataset.sampleSize() != sample.size()) {
            throw new BadInputException("model " + graph.graph().name() + " takes " + sample + " but the samples of " + dataset.name()
                    + " are " + dataset.sampleShape());
        }
        int shown = Math.min(count, dataset.size());
        int[] order = new EpochOrder(train.seed(), dataset.size()).permutation(epoch);
        AugmentationPipeline augment = AugmentationPipeline.of(train.augment(), sample, train.seed());
        int size = sample.size();
        float[] x = new float[shown * size];
        float[] y = new float[shown * dataset.targetSize()];
        dataset.copyBatch(order, 0, shown, x, y);
        augment.applyToBatch(x, order, 0, shown, epoch);

        List<ImageGrid.Tile> tiles = new ArrayList<>();
        for (int i = 0; i < shown; i++) {
            float[] values = Arrays.copyOfRange(x, i * size, (i + 1) * size);
            tiles.add(new ImageGrid.Tile(values, sample.dim(0), sample.dim(1), sample.dim(2), label(dataset, order[i]), 0, 1));
        }
        String title = String.format(Locale.ROOT, "%s: %d training samples of epoch %d", graph.graph().name(), shown, epoch);
        String subtitle = (train.augment().isEmpty() ? "no augmentation" : "augment = " + describe(train.augment()))
                + "; seed " + train.seed() + "; " + dataset.name();
        PngFiles.write(ImageGrid.render(title, subtitle, tiles, ImageGrid.columnsFor(shown), Colormap.GREY), output);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "Wrote %s: %d samples of epoch %d, %s%n", output, shown, epoch,
                train.augment().isEmpty() ? "not augmented (the train section has no augment)" : "augmented");
        out.flush();
        return ExitCodes.OK;
    }

    /** A tile's label: the class name, else the class index, else the sample's index (regression). */
    private static String label(Dataset data, int index) {
        if (!data.isClassification()) return "#" + index;
        int c = data.label(index);
        return data.classNames().isEmpty() ? Integer.toString(c) : data.classNames().get(c);
    }

    /**
     * The list as a script would write it, short enough for a subtitle: arguments left at their
     * defaults are left out, a direction is written bare
     * ({@code [random_crop(size=28, pad=2), flip(horizontal), rotate(degrees=10)]}).
     */
    static String describe(List<AugmentSpec> augment) {
        List<String> calls = new ArrayList<>();
        for (AugmentSpec a : augment) {
            Map<String, Object> shown = new LinkedHashMap<>();
            String word = null;
            for (ParamSpec p : Augmentations.schema(a.name()).specs()) {
                Object v = a.args().values().get(p.name());
                if (v instanceof String s) word = s;
                else if (v != null && !v.equals(p.defaultValue())) shown.put(p.name(), v);
            }
            String args = new LayerArgs(shown).toString();
            calls.add(a.name() + "(" + (word == null ? args : args.isEmpty() ? word : word + ", " + args) + ")");
        }
        return "[" + String.join(", ", calls) + "]";
    }
}
