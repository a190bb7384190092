package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.neurite.layer.LayerArgs;
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
            default -> throw new IllegalArgumentException("unknown data source '" + name + "'");
        };
    }

    private static Path resolve(Path baseFolder, String name) {
        Path file = Path.of(name);
        return !file.isAbsolute() && baseFolder != null ? baseFolder.resolve(file) : file;
    }
}
