package org.neurite.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * A folder of the four standard IDX files (as {@link DatasetLocator} reads them) as two streamed
 * datasets, {@code data = idx(folder="...", memory="64m")}: the images stay on disk and are read
 * by offset as batches are drawn ({@link IdxSampleReader}), through one {@link StreamingLoader}
 * shared by both splits; the labels (one byte a sample on disk) are held. Image files must be
 * uncompressed, since a gzip stream cannot be read by offset; label files may be either.
 *
 * <p>The checks are those of the in-memory reader: headers and lengths, as many labels as
 * images, test images of the training images' size. Classes are the labels 0 .. the highest
 * label of either split; samples are [1, rows, cols] in [0, 1].
 */
public final class IdxFolderStream {
    private IdxFolderStream() {}

    /** Both splits of {@code folder}, read through {@code loader}. */
    public static DataSourceLoader.Splits open(Path folder, StreamingLoader loader) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new FileFormatException("idx: folder " + folder + " " + DatasetLocator.notAFolder(folder));
        }
        List<Path> files = new ArrayList<>();
        for (String name : DatasetLocator.FILE_NAMES) files.add(find(folder, name));
        IdxSampleReader trainImages = new IdxSampleReader(files.get(0), Normalization.NONE);
        IdxSampleReader testImages = new IdxSampleReader(files.get(2), Normalization.NONE);
        int[] trainLabels = labels(files.get(1), trainImages, files.get(0));
        int[] testLabels = labels(files.get(3), testImages, files.get(2));
        if (trainImages.rows() != testImages.rows() || trainImages.cols() != testImages.cols()) {
            throw new FileFormatException(files.get(2) + ": images are " + testImages.rows() + " x " + testImages.cols()
                    + " but the training images (" + files.get(0) + ") are " + trainImages.rows() + " x " + trainImages.cols());
        }
        Shape sample = Shape.of(1, trainImages.rows(), trainImages.cols());
        loader.checkFits(sample);
        int classes = Math.max(maxLabel(trainLabels), maxLabel(testLabels)) + 1;
        String name = folder.toAbsolutePath().normalize().getFileName() == null ? folder.toString()
                : folder.toAbsolutePath().normalize().getFileName().toString();
        String streamed = " streamed from " + folder + " (at most " + loader.bound() + " in memory)";
        return new DataSourceLoader.Splits(
                Dataset.streamed(name, sample, trainImages, loader, trainLabels, classes, List.of(),
                        String.format(Locale.ROOT, "%,d training images", trainLabels.length) + streamed),
                Dataset.streamed(name, sample, testImages, loader, testLabels, classes, List.of(),
                        String.format(Locale.ROOT, "%,d test images", testLabels.length) + streamed));
    }

    /** {@code folder/name}, else {@code folder/name.gz} (which the image reader refuses, saying how to unpack it). */
    private static Path find(Path folder, String name) throws FileFormatException {
        for (String candidate : List.of(name, name + ".gz")) {
            Path file = folder.resolve(candidate);
            if (Files.isRegularFile(file)) return file;
        }
        throw new FileFormatException("idx: folder " + folder + " has no " + name + " (the four files are "
                + String.join(", ", DatasetLocator.FILE_NAMES) + ")");
    }

    /** The labels of {@code file}, one per image of {@code images}. */
    private static int[] labels(Path file, IdxSampleReader images, Path imageFile) throws IOException {
        int[] labels = IdxReader.readLabels(file);
        if (labels.length != images.size()) {
            throw new FileFormatException(imageFile + " holds " + images.size() + " images but " + file + " holds "
                    + labels.length + " labels");
        }
        return labels;
    }

    private static int maxLabel(int[] labels) {
        int max = 0;
        for (int l : labels) max = Math.max(max, l);
        return max;
    }
}
