package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import org.neurite.plugin.NamedRegistry;
import org.neurite.train.DataSource;
import org.neurite.train.DataSources;
import org.neurite.train.TrainSpec;

/**
 * The training and test splits a train section's {@code data} names, found the way {@code nn
 * train} finds them: a data source call ({@code adding(...)}, {@code images(...)}, …) through
 * {@link DataSourceLoader}, a dataset name or IDX folder through {@link DatasetLocator} (the
 * given folder, {@code $NEURITE_DATA}, the installed packages, then the bundled subset). A data
 * source's name is looked up in the runtime's registry ({@code runtime.dataSources()}), where a
 * plugin's sit beside the core's.
 */
public final class TrainSectionData {
    private TrainSectionData() {}

    /**
     * The splits with the core's data sources only; a plugin's need the overload with the registry.
     *
     * @param scriptFolder the folder a data source's relative file names are resolved against
     * @param dataFolder where to look for a named dataset first, or null for the standard places
     */
    public static DataSourceLoader.Splits load(TrainSpec spec, Path scriptFolder, Path dataFolder) throws IOException {
        if (DataSources.schema(spec.data()) != null) return DataSourceLoader.create(spec.data(), spec.dataArgs(), spec.seed(), scriptFolder);
        return locate(spec, dataFolder);
    }

    /**
     * As {@link #load(TrainSpec, Path, Path)}, with the data sources of {@code sources} (every
     * plugin's, the core's included).
     */
    public static DataSourceLoader.Splits load(TrainSpec spec, Path scriptFolder, Path dataFolder, NamedRegistry<DataSource> sources)
            throws IOException {
        DataSource source = sources.find(spec.data()).orElse(null);
        if (source != null) return DataSourceLoader.create(source, spec.dataArgs(), spec.seed(), scriptFolder);
        return locate(spec, dataFolder);
    }

    private static DataSourceLoader.Splits locate(TrainSpec spec, Path dataFolder) throws IOException {
        DatasetLocator.Located found = DatasetLocator.standard(dataFolder).locate(spec.data(), Normalization.NONE, spec.span());
        return new DataSourceLoader.Splits(found.train(), found.test());
    }
}
