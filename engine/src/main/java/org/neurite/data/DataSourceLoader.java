package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.neurite.layer.LayerArgs;
import org.neurite.tensor.Shape;
import org.neurite.train.DataSources;

/**
 * Creates the data a train section names with a call ({@link DataSources}: names and argument
 * schemas): the generated adding problem, character-level text, or safetensors files.
 */
public final class DataSourceLoader {
    private DataSourceLoader() {}

    /** Train and test splits, and a line for the user saying what they are. */
    public record Splits(Dataset train, Dataset test) {}

    /**
     * Creates the named source. Generated data is seeded from {@code seed} (the test split from a
     * different stream than the training split).
     *
     * @param baseFolder folder relative file names are resolved against
     */
    public static Splits create(String name, LayerArgs args, long seed, Path baseFolder) throws IOException {
        return switch (name) {
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
                Dataset train = ImageFolder.load(folder, size, classes, "training");
                String test = args.getString("test");
                yield test.isEmpty()
                        ? holdOut(train, args.getDouble("validation"), seed)
                        : new Splits(train, ImageFolder.load(resolve(baseFolder, test), size, classes, "test"));
            }
            case "csv" -> {
                Path file = resolve(baseFolder, args.getString("file"));
                String label = args.getString("label"), task = args.getString("task");
                Dataset train = CsvData.load(file, label, task, null, "training");
                String test = args.getString("test");
                yield test.isEmpty()
                        ? holdOut(train, args.getDouble("validation"), seed)
                        : new Splits(train, CsvData.load(resolve(baseFolder, test), label, task,
                                train.isClassification() ? train.classNames() : List.of(), "test"));
            }
            default -> throw new IllegalArgumentException("unknown data source '" + name + "'");
        };
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

    private static Shape imageSize(int[] size) {
        if (size.length != 3 || (size[0] != 1 && size[0] != 3) || size[1] < 1 || size[2] < 1) {
            throw new IllegalArgumentException("images: size must be [channels, height, width] with 1 (grey) or 3 (RGB) channels, got "
                    + Arrays.toString(size));
        }
        return Shape.of(size);
    }

    /**
     * A seeded random {@code fraction} of {@code all} held out as the test split (at least one
     * sample each side); the same seed holds out the same samples.
     */
    static Splits holdOut(Dataset all, double fraction, long seed) {
        int n = all.size();
        int test = (int) Math.round(n * fraction);
        if (!(fraction > 0 && fraction < 1) || test < 1 || test >= n) {
            throw new IllegalArgumentException(all.name() + ": validation = " + fraction + " of " + n + " samples leaves "
                    + (n - test) + " to train on and " + test + " to test on; give a fraction that keeps both (or a test= split)");
        }
        int[] order = new EpochOrder(seed ^ 0x76616C6964L, n).permutation(0);   // "valid": not the epochs' stream
        int[] trainIdx = Arrays.copyOfRange(order, 0, n - test), testIdx = Arrays.copyOfRange(order, n - test, n);
        Arrays.sort(trainIdx);
        Arrays.sort(testIdx);
        String held = Math.round(fraction * 100) + "%";
        return new Splits(all.select(trainIdx, (n - test) + " samples of " + all.description() + " (" + held + " held out)"),
                all.select(testIdx, "the " + held + " validation split (" + test + " samples) of " + all.description()));
    }

    private static Path resolve(Path baseFolder, String name) {
        Path file = Path.of(name);
        return !file.isAbsolute() && baseFolder != null ? baseFolder.resolve(file) : file;
    }
}
