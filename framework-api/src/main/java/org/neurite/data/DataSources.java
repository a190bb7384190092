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

    public static final List<String> NAMES = List.of("adding", "text");

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
                Path file = Path.of(args.getString("file"));
                if (!file.isAbsolute() && baseFolder != null) file = baseFolder.resolve(file);
                CharText.Splits s = CharText.load(file, args.getInt("length"));
                yield new Splits(s.train(), s.test());
            }
            default -> throw new IllegalArgumentException("unknown data source '" + name + "'");
        };
    }
}
