package org.neurite.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;

/**
 * Data a train section names with a call, {@code data = name(arg=value, ...)}: its argument schema,
 * which the script checker binds the call against (file:line:col), and how to produce the
 * training and test splits. A plugin contributes one with {@code PluginModule.dataSource}; the
 * core's {@code adding}, {@code text}, {@code tensors}, {@code images}, {@code csv} and {@code idx}
 * ({@link DataSources}) are contributed the same way (the engine reads those itself, streamed
 * ones included, rather than through {@link #load}).
 */
public interface DataSource {
    /** The name scripts use, e.g. {@code adding}. */
    String name();

    /** The arguments, with defaults and ranges. */
    ParamSchema schema();

    /**
     * Checks what the schema cannot.
     *
     * @param args arguments bound to {@link #schema()}
     * @throws ArgumentException naming the argument at fault (position -1)
     */
    default void check(LayerArgs args) {}

    /**
     * Both splits, in memory.
     *
     * @param args arguments bound to {@link #schema()}
     * @param seed the train section's seed: generated data must depend on it alone, so a run repeats
     * @param scriptFolder the folder relative file names are resolved against (null: the working folder)
     * @throws IOException when a file cannot be read
     * @throws IllegalArgumentException for data that cannot be used, saying what is wrong
     */
    Splits load(LayerArgs args, long seed, Path scriptFolder) throws IOException;

    /** A display name per class, for what reports a prediction; empty when the classes have none (the default). */
    default List<String> classNames(LayerArgs args, Path scriptFolder) throws IOException { return List.of(); }

    /** The training and the test split. */
    record Splits(Samples train, Samples test) {}
}
