package org.neurite.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * Pictures sorted into one subfolder per class (torchvision's {@code ImageFolder} layout):
 * {@code folder/cat/1.png, folder/dog/a.jpg, …}. Classes are the subfolder names in sorted order
 * (their index is the label; the names are what {@code nn predict}, the confusion matrix and the
 * report show); every picture (PNG, JPEG, BMP, GIF, TIFF, WebP) inside a class folder (not below it) is one sample, read with
 * {@link ImageFiles} to the model's [C, H, W]. Other files, and hidden ones (a name starting with a
 * dot), are ignored; a class folder without
 * pictures, a folder without class folders, or a picture that does not decode is refused with the
 * path at fault. Samples are held in memory ({@link #load}) or read from disk as training asks
 * for them ({@link #stream}).
 */
public final class ImageFolder {
    private ImageFolder() {}

    /** The class names of {@code folder}: its subfolders, sorted. */
    public static List<String> classNames(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new FileFormatException("image folder " + folder + " " + DatasetLocator.notAFolder(folder));
        }
        try (Stream<Path> entries = Files.list(folder)) {
            List<String> names = entries.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().toList();
            if (names.isEmpty()) {
                throw new FileFormatException("image folder " + folder + " has no class folders: put each class's pictures in a "
                        + "subfolder named after the class (" + folder.resolve("cat") + "/1.png, …)");
            }
            return names;
        }
    }

    /** The pictures of one class folder, sorted by name. */
    private static List<Path> pictures(Path classFolder) throws IOException {
        try (Stream<Path> entries = Files.list(classFolder)) {
            // Hidden files are skipped, as hidden class folders are: macOS leaves "._name.png" resource
            // forks beside pictures copied to other disks, and they end in .png without being pictures.
            return entries.filter(p -> !p.getFileName().toString().startsWith(".")).filter(Files::isRegularFile)
                    .filter(ImageFiles::isImage).sorted(Comparator.comparing(Path::toString)).toList();
        }
    }

    /**
     * Every picture of {@code folder} as a {@code sample}-shaped sample, labelled by its class folder.
     *
     * @param classNames the classes to label with (a test folder uses the training folder's, so both
     *     agree on the indices); a class folder not among them is refused
     * @param split "training" or "test", for messages
     */
    public static Dataset load(Path folder, Shape sample, List<String> classNames, String split) throws IOException {
        Listing listing = list(folder, sample, classNames, split);
        List<Path> files = listing.files();
        int size = sample.size();
        float[] features = new float[Math.multiplyExact(files.size(), size)];
        for (int i = 0; i < files.size(); i++) ImageFiles.read(files.get(i), sample, features, i * size);
        return new Dataset(folder.getFileName().toString(), sample, features, listing.labels(), classNames.size(), classNames, false,
                files.size() + " pictures in " + classNames.size() + " classes from " + folder + " (" + split + ")");
    }

    /**
     * The pictures of {@code folder} read from disk a chunk at a time by {@code loader} as training
     * asks for them, rather than all at once: the same samples, in the same order and with the same
     * floats as {@link #load}, but only their paths and labels are held. A picture that does not
     * decode stops training when its chunk is read, naming it.
     */
    public static Dataset stream(Path folder, Shape sample, List<String> classNames, String split, StreamingLoader loader)
            throws IOException {
        Listing listing = list(folder, sample, classNames, split);
        loader.checkFits(sample);
        return Dataset.streamed(folder.getFileName().toString(), sample, new PictureSampleReader(listing.files(), sample), loader,
                listing.labels(), classNames.size(), classNames, listing.files().size() + " pictures in " + classNames.size()
                        + " classes streamed from " + folder + " (" + split + ", at most " + loader.bound() + " in memory)");
    }

    /** Every picture of a folder, class after class, and the label of each. */
    private record Listing(List<Path> files, int[] labels) {}

    private static Listing list(Path folder, Shape sample, List<String> classNames, String split) throws IOException {
        if (!ImageFiles.isImageShape(sample))
            throw new IllegalArgumentException("images: size must be [1 or 3, height, width] (grey or RGB), got " + sample);
        List<String> found = classNames(folder);
        for (String name : found) {
            if (!classNames.contains(name)) {
                throw new FileFormatException("the " + split + " image folder " + folder + " has a class '" + name
                        + "' that the training folder lacks (classes: " + String.join(", ", classNames) + ")");
            }
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (String name : found) {
            List<Path> pictures = pictures(folder.resolve(name));
            if (pictures.isEmpty()) throw new FileFormatException("class folder " + folder.resolve(name) + " holds no pictures (" + ImageFiles.FORMATS + ")");
            for (Path p : pictures) {
                files.add(p);
                labels.add(classNames.indexOf(name));
            }
        }
        return new Listing(files, labels.stream().mapToInt(Integer::intValue).toArray());
    }
}
