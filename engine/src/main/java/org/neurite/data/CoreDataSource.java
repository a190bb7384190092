package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.ParamSchema;
import org.neurite.train.DataSource;
import org.neurite.train.DataSources;
import org.neurite.train.Samples;

/**
 * One of the core's data sources ({@link DataSources#NAMES}), as the engine's
 * {@code CoreTrainingPlugin} contributes it to the runtime's data source registry: its schema and
 * checks are {@link DataSources}', and the engine creates its {@link Dataset}s with
 * {@link DataSourceLoader#create(String, LayerArgs, long, Path)}, streamed ones included.
 * {@link #load} is for a caller that wants the samples as arrays: it reads every sample into memory.
 *
 * @param name one of {@link DataSources#NAMES}
 */
public record CoreDataSource(String name) implements DataSource {
    public CoreDataSource {
        if (DataSources.schema(name) == null) throw new IllegalArgumentException("the core has no data source '" + name + "'");
    }

    /** Every core data source, in the order of {@link DataSources#NAMES}. */
    public static List<CoreDataSource> all() {
        return DataSources.NAMES.stream().map(CoreDataSource::new).toList();
    }

    @Override public ParamSchema schema() { return DataSources.schema(name); }

    @Override public void check(LayerArgs args) { DataSources.check(name, args); }

    @Override public Splits load(LayerArgs args, long seed, Path scriptFolder) throws IOException {
        DataSourceLoader.Splits splits = DataSourceLoader.create(name, args, seed, scriptFolder);
        return new Splits(inMemory(splits.train()), inMemory(splits.test()));
    }

    @Override public List<String> classNames(LayerArgs args, Path scriptFolder) throws IOException {
        return DataSourceLoader.classNames(name, args, scriptFolder);
    }

    /** Every sample of {@code data}, in order, read into arrays. */
    private static Samples inMemory(Dataset data) {
        int n = data.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        float[] x = new float[n * data.sampleShape().size()];
        float[] y = new float[n * data.targetSize()];
        data.copyBatch(order, 0, n, x, y);
        return new Samples(data.name(), data.sampleShape(), x, data.targetShape(), y, data.classes(), data.classNames(), data.description());
    }
}
