package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.train.DataSource;
import org.neurite.train.DataSources;
import org.neurite.train.MemoryBound;
import org.neurite.train.Samples;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the data a train section names with a call: one of the core's sources
 * ({@link DataSources}: names and argument schemas), the generated adding problem,
 * character-level text, safetensors files, pictures, a table, or IDX files streamed from disk
 * ({@link IdxFolderStream}); or a plugin's {@link DataSource}, whose in-memory {@link Samples}
 * become {@link Dataset}s.
 */
public final class DataSourceLoader {
    private static final Logger LOG = LoggerFactory.getLogger(DataSourceLoader.class);

    private DataSourceLoader() {}

    /** Train and test splits, and a line for the user saying what they are. */
    public record Splits(Dataset train, Dataset test) {}

    /**
     * Creates {@code source}'s splits: a core source as {@link #create(String, LayerArgs, long, Path)}
     * does, a plugin's from the samples it loads.
     *
     * @param args arguments bound to {@code source.schema()}
     * @throws IllegalArgumentException when a plugin's splits do not match each other
     */
    public static Splits create(DataSource source, LayerArgs args, long seed, Path baseFolder) throws IOException {
        if (source instanceof CoreDataSource core) return create(core.name(), args, seed, baseFolder);
        DataSource.Splits loaded = source.load(args, seed, baseFolder);
        Samples train = loaded.train(), test = loaded.test();
        if (!train.sampleShape().equals(test.sampleShape()) || !train.targetShape().equals(test.targetShape())
                || (train.classes() > 0) != (test.classes() > 0)) {
            throw new IllegalArgumentException(source.name() + ": the test split (x " + test.sampleShape() + ", y " + test.targetShape()
                    + ", " + test.classes() + " classes) does not match the training split (x " + train.sampleShape() + ", y "
                    + train.targetShape() + ", " + train.classes() + " classes)");
        }
        Splits splits = new Splits(dataset(train), dataset(test));
        LOG.info("data source {} ({}): {} training samples ({}); {} test samples ({})", source.name(), NeuriteRuntime.origin(source),
                splits.train().size(), splits.train().description(), splits.test().size(), splits.test().description());
        return splits;
    }

    private static Dataset dataset(Samples s) {
        return new Dataset(s.name(), s.sampleShape(), s.features(), s.targetShape(), s.targets(), s.classes(), s.classNames(), false,
                s.description());
    }

    /**
     * Creates the named source. Generated data is seeded from {@code seed} (the test split from a
     * different stream than the training split).
     *
     * @param baseFolder folder relative file names are resolved against
     */
    public static Splits create(String name, LayerArgs args, long seed, Path baseFolder) throws IOException {
        Splits splits = switch (name) {
            case "adding" -> new Splits(
                    AddingProblem.generate(args.getInt("length"), args.getInt("size"), seed, "training"),
                    AddingProblem.generate(args.getInt("length"), args.getInt("test_size"), seed ^ 0x5DEECE66DL, "test"));
            case "text" -> {
                CharText.Splits s = CharText.load(resolve(baseFolder, args.getString("file")), args.getInt("length"));
                yield new Splits(s.train(), s.test());
            }
            case "tensors" -> {
                String task = args.getString("task");
                if (!List.of("auto", "classification", "regression").contains(task)) {
                    throw new IllegalArgumentException("tensors: task must be auto, classification or regression, got '" + task + "'");
                }
                Dataset train = TensorFiles.load(resolve(baseFolder, args.getString("file")), task, "training");
                Dataset test = TensorFiles.load(resolve(baseFolder, args.getString("test")), task, "test");
                if (!train.sampleShape().equals(test.sampleShape()) || !train.targetShape().equals(test.targetShape())
                        || train.isClassification() != test.isClassification()) {
                    throw new IllegalArgumentException("tensors: the test split (x " + test.sampleShape() + ", y " + test.targetShape()
                            + ") does not match the training split (x " + train.sampleShape() + ", y " + train.targetShape() + ")");
                }
                // Either split may lack the highest label; both score against the larger class count.
                int classes = Math.max(train.classes(), test.classes());
                yield train.isClassification()
                        ? new Splits(train.classes() < classes ? train.withClasses(classes) : train,
                                test.classes() < classes ? test.withClasses(classes) : test)
                        : new Splits(train, test);
            }
            case "images" -> {
                Path folder = resolve(baseFolder, args.getString("folder"));
                Shape size = imageSize(args.getInts("size"));
                List<String> classes = ImageFolder.classNames(folder);
                StreamingLoader loader = streamingLoader(name, args);
                Dataset train = pictures(folder, size, classes, "training", loader);
                String test = args.getString("test");
                yield test.isEmpty()
                        ? holdOut(train, args.getDouble(DataSources.TEST_FRACTION), seed)
                        : new Splits(train, pictures(resolve(baseFolder, test), size, classes, "test", loader));
            }
            case "csv" -> {
                Path file = resolve(baseFolder, args.getString("file"));
                String label = args.getString("label"), task = args.getString("task");
                Dataset train = CsvData.load(file, label, task, null, "training");
                String test = args.getString("test");
                yield test.isEmpty()
                        ? holdOut(train, args.getDouble(DataSources.TEST_FRACTION), seed)
                        : new Splits(train, CsvData.load(resolve(baseFolder, test), label, task,
                                train.isClassification() ? train.classNames() : List.of(), "test", CsvData.header(file)));
            }
            case "idx" -> IdxFolderStream.open(resolve(baseFolder, args.getString("folder")), streamingLoader(name, args));
            default -> throw new IllegalArgumentException("unknown data source '" + name + "'");
        };
        // The descriptions name the files read, so an operator sees which data a run used.
        LOG.info("data source {}: {} training samples ({}); {} test samples ({})", name, splits.train().size(),
                splits.train().description(), splits.test().size(), splits.test().description());
        return splits;
    }

    /**
     * The class names of the named source's data, for what reports a prediction ({@code nn
     * predict}): the class folders of {@code images}, the labels of {@code csv}; empty for the others.
     */
    public static List<String> classNames(String name, LayerArgs args, Path baseFolder) throws IOException {
        return switch (name) {
            case "images" -> ImageFolder.classNames(resolve(baseFolder, args.getString("folder")));
            case "csv" -> CsvData.classNames(resolve(baseFolder, args.getString("file")), args.getString("label"), args.getString("task"));
            default -> List.of();
        };
    }

    /** The loader a {@code memory} argument asks for (one for both splits, so they share its bound); null for none. */
    private static StreamingLoader streamingLoader(String name, LayerArgs args) {
        try {
            DataSources.check(name, args);
        } catch (ArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
        MemoryBound memory = DataSources.memory(args);
        return memory == null ? null : new StreamingLoader(memory);
    }

    /** The pictures of {@code folder}, streamed through {@code loader} or, when it is null, read into memory. */
    private static Dataset pictures(Path folder, Shape size, List<String> classes, String split, StreamingLoader loader) throws IOException {
        return loader == null ? ImageFolder.load(folder, size, classes, split) : ImageFolder.stream(folder, size, classes, split, loader);
    }

    private static Shape imageSize(int[] size) {
        if (size.length != 3 || (size[0] != 1 && size[0] != 3) || size[1] < 1 || size[2] < 1) {
            throw new IllegalArgumentException("images: size must be [channels, height, width] with 1 (grey) or 3 (RGB) channels, got "
                    + Arrays.toString(size));
        }
        return Shape.of(size);
    }

    /** A seeded random {@code fraction} of {@code all} held out as the test split ({@link HoldOut#test}). */
    static Splits holdOut(Dataset all, double fraction, long seed) {
        HoldOut.Split split = HoldOut.test(all, fraction, seed);
        return new Splits(split.kept(), split.held());
    }

    private static Path resolve(Path baseFolder, String name) {
        Path file = Path.of(name);
        return !file.isAbsolute() && baseFolder != null ? baseFolder.resolve(file) : file;
    }
}
