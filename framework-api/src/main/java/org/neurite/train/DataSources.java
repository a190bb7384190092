package org.neurite.train;

import static org.neurite.layer.ParamSpec.optional;
import static org.neurite.layer.ParamSpec.required;

import java.util.List;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.layer.ParamType;

/**
 * Data a train section names with a call rather than a file set:
 * {@code data = adding(length=100)} generates the adding problem,
 * {@code data = text(file="/usr/share/dict/words", length=64)} reads character-level text,
 * {@code data = images(folder="photos", size=[3, 64, 64])} reads one subfolder of pictures per
 * class, {@code data = csv(file="iris.csv", label="species")} reads a table,
 * {@code data = idx(folder="digits", memory="64m")} streams IDX files from disk. A {@link #MEMORY}
 * argument ({@code idx}, {@code images}) keeps the samples on disk, read as batches are drawn with
 * at most that many bytes of them in memory ({@link MemoryBound}).
 * Named file datasets ({@code fashion_mnist}) are found by the engine's {@code DatasetLocator} instead.
 * These are the names and argument schemas the language checks a train section against; the
 * engine's {@code DataSourceLoader} creates the data.
 */
public final class DataSources {
    private DataSources() {}

    public static final List<String> NAMES = List.of("adding", "text", "tensors", "images", "csv", "idx");

    /** The argument that streams a source from disk, holding at most this much of it in memory ({@link MemoryBound}). */
    public static final String MEMORY = "memory";

    /**
     * The argument of {@code images} and {@code csv} that holds part of the data out as the
     * <em>test</em> split when no test file is given. The train section's {@code validation}
     * setting ({@link ValidationSpec}) then holds part of what remains out as the validation split.
     */
    public static final String TEST_FRACTION = "test_fraction";

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
            case "images" -> ParamSchema.of(
                    required("folder", ParamType.STRING, "a folder with one subfolder of pictures (PNG, JPEG, BMP, GIF, TIFF, WebP) per class, relative to the script's folder"),
                    required("size", ParamType.INTS, "[channels, height, width] every picture becomes: 1 (grey) or 3 (RGB) channels, resized"),
                    optional("test", ParamType.STRING, "", "a second such folder for the test split (else test_fraction holds part of folder out)"),
                    optional(TEST_FRACTION, ParamType.FLOAT, 0.1, "fraction of folder held out as the test split when no test folder is given")
                            .range(0, 1),
                    optional(MEMORY, ParamType.STRING, "", "stream the pictures from disk, holding at most this much of them "
                            + "(\"256m\"); empty: read them all into memory first"));
            case "csv" -> ParamSchema.of(
                    required("file", ParamType.STRING, "a CSV file whose first row names the columns, relative to the script's folder"),
                    required("label", ParamType.STRING, "the column holding the label; every other column is a numeric feature"),
                    optional("test", ParamType.STRING, "", "a CSV file with the same columns for the test split (else test_fraction holds rows out)"),
                    optional(TEST_FRACTION, ParamType.FLOAT, 0.1, "fraction of the rows held out as the test split when no test file is given")
                            .range(0, 1),
                    optional("task", ParamType.STRING, "auto",
                            "classification (labels are classes: names or whole numbers), regression (real values), or auto: "
                                    + "regression when every label is a number and some is not a whole number >= 0"));
            case "idx" -> ParamSchema.of(
                    required("folder", ParamType.STRING, "a folder with the four standard IDX files (train-images-idx3-ubyte, ...), "
                            + "the image files uncompressed, relative to the script's folder"),
                    required(MEMORY, ParamType.STRING, "the most bytes of images held while they stream from disk (\"64m\")"));
            default -> null;
        };
    }

    /**
     * The memory bound {@code args} (bound to {@link #schema}) ask for; null when the source is held
     * in memory.
     */
    public static MemoryBound memory(LayerArgs args) {
        if (!args.has(MEMORY) || args.getString(MEMORY).isEmpty()) return null;
        return MemoryBound.parse(args.getString(MEMORY));
    }

    /**
     * Checks what the schema cannot: that {@code memory} is a size ({@code idx} always streams, so
     * it needs one).
     *
     * @throws ArgumentException on the argument at fault (position -1), saying what is accepted
     */
    public static void check(String name, LayerArgs args) {
        MemoryBound bound;
        try {
            bound = memory(args);
        } catch (IllegalArgumentException e) {
            throw new ArgumentException(MEMORY, -1, e.getMessage());
        }
        if (bound == null && name.equals("idx")) {
            throw new ArgumentException(MEMORY, -1, "memory is the most bytes of images held while they stream, e.g. memory=\"64m\"; "
                    + "to read IDX files into memory, name their folder instead: data = \"folder\"");
        }
    }
}
