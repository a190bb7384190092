package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import org.neurite.train.DataSources;
import org.neurite.train.TrainSpec;

/**
 * The training and test splits a train section's {@code data} names, found the way {@code nn
 * train} finds them: a data source call ({@code adding(...)}, {@code images(...)}, …) through
 * {@link DataSourceLoader}, a dataset name or IDX folder through {@link DatasetLocator} (the
 * given folder, {@code $NEURITE_DATA}, the installed packages, then the bundled subset).
 */
public final class TrainSectionData {
    private TrainSectionData() {}

    /**
     * @param scriptFolder the folder a data source's relative file names are resolved against
     * @param dataFolder where to look for a named dataset first, or null for the standard places
     */
    public static DataSourceLoader.Splits load(TrainSpec spec, Path scriptFolder, Path dataFolder) throws IOException {
        if (DataSources.schema(spec.data()) != null) return DataSourceLoader.create(spec.data(), spec.dataArgs(), spec.seed(), scriptFolder);
        DatasetLocator.Located found = DatasetLocator.standard(dataFolder).locate(spec.data(), Normalization.NONE, spec.span());
        return new DataSourceLoader.Splits(found.train(), found.test());
    }
}
