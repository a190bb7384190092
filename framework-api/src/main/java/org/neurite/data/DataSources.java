package org.neurite.data;

import static org.neurite.layer.ParamSpec.optional;
import static org.neurite.layer.ParamSpec.required;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;

/**
 * Data a train section names with a call rather than a file set:
 * {@code data = adding(length=100)} generates the adding problem,
 * {@code data = text(file="/usr/share/dict/words", length=64)} reads character-level text.
 * Named file datasets ({@code fashion_mnist}) are found by {@link DatasetLocator} instead.
 */
public final class DataSources {
    private DataSources() {}

    public static final List<String> NAMES = List.of("adding", "text", "tensors");

    /** The argument schema of a generated source, or null when {@code name} is not one. */
    public static ParamSchema schema(String name) {
        return switch (name) {
            case "adding" -> ParamSchema.of(
                    optional("length", ParamType.INT, 100, "steps per sequence (T)").range(2, 100_000),
                    optional("size", ParamType.INT, 20_000, "training sequences").range(1, 10_000_000),
                    optional("test_size", ParamType.INT, 2_000, "test sequences").range(1, 10_000_000));
            case "text" -> ParamSchema.of(
                    required("file", ParamType.STRING, "a UTF-8 text file, relative to the script's folder"),
                    optional("length", ParamType.INT, 64, "characters per window (truncated BPTT length)").range(1, 100_000));
            case "tensors" -> ParamSchema.of(
                    required("file", ParamType.STRING, "training safetensors with tensors x [N, ...] and y [N, ...]"),
                    required("test", ParamType.STRING, "test safetensors with the same tensors"),
                    optional("task", ParamType.STRING, "auto",
                            "classification (y holds class indices), regression (real values), or auto: classification "
                                    + "when every y is a whole number >= 0"));
            default -> null;
        };
    }

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
            default -> throw new IllegalArgumentException("unknown data source '" + name + "'");
        };
    }

    private static Path resolve(Path baseFolder, String name) {
        Path file = Path.of(name);
        return !file.isAbsolute() && baseFolder != null ? baseFolder.resolve(file) : file;
    }
}
