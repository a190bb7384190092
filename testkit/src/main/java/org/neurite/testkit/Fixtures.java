package org.neurite.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.neurite.backend.Backend;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Tensor;

/**
 * One PyTorch fixture file from the test kit's {@code fixtures} resources (made by
 * {@code tools/fixtures/ops/make_op_fixtures.py}): tensors named {@code <case>.<tensor>} and,
 * per case, its settings as JSON in the file's metadata. Also the shared closeness check.
 *
 * <p>Public, so every backend's tests hold themselves to the same references (see
 * {@link PyTorchParityTest}). The files come from the folder {@code -Dneurite.fixtures} names
 * when set, else from the class path (the test kit's jar or its build folder).
 */
public final class Fixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String file;
    private final SafeTensors.Contents contents;

    private Fixtures(String file, SafeTensors.Contents contents) {
        this.file = file;
        this.contents = contents;
    }

    public static Fixtures load(String name) {
        String file = name + ".safetensors";
        try {
            String dir = System.getProperty("neurite.fixtures");
            if (dir != null) {
                Path path = Path.of(dir, file);
                if (!Files.isRegularFile(path)) throw new IllegalStateException("missing PyTorch fixture " + path.toAbsolutePath());
                return new Fixtures(name, SafeTensors.read(path));
            }
            String resource = "/fixtures/" + file;
            URL url = Fixtures.class.getResource(resource);
            if (url == null) throw new IllegalStateException("missing test resource " + resource + "; run tools/fixtures/ops/make_op_fixtures.py");
            if (url.getProtocol().equals("file")) return new Fixtures(name, SafeTensors.read(Path.of(url.toURI())));
            // Inside a jar (the test kit on another module's class path): SafeTensors reads files, so copy it out.
            Path copy = Files.createTempFile("neurite-fixture-", ".safetensors");
            try (InputStream in = url.openStream()) {
                Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
                return new Fixtures(name, SafeTensors.read(copy));
            } finally {
                Files.deleteIfExists(copy);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Case names with their settings, in file order. */
    public Map<String, String> cases() { return contents.metadata(); }

    public JsonNode settings(String caseName) {
        try {
            return JSON.readTree(contents.metadata().get(caseName));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public boolean has(String caseName, String tensor) { return contents.get(caseName + "." + tensor) != null; }

    public NamedTensor tensor(String caseName, String tensor) {
        NamedTensor t = contents.get(caseName + "." + tensor);
        if (t == null) throw new IllegalStateException(file + ": no tensor " + caseName + "." + tensor);
        return t;
    }

    public float[] values(String caseName, String tensor) { return tensor(caseName, tensor).data(); }

    /** The fixture tensor uploaded to the backend, with its shape. */
    public Tensor upload(Backend backend, String caseName, String tensor) {
        NamedTensor t = tensor(caseName, tensor);
        Tensor out = backend.allocate(t.shape());
        backend.upload(t.data(), out);
        return out;
    }

    /** Asserts {@code |actual - expected| <= tol * (1 + |expected|)} element-wise, naming the first miss. */
    public static void assertClose(String what, float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length, what + ": length");
        int misses = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs((double) actual[i] - expected[i]) / (1 + Math.abs(expected[i]));
            if (!(err <= tol)) {
                if (first < 0) first = i;
                misses++;
            }
            if (err > worst || Double.isNaN(err)) worst = err;
        }
        if (misses > 0)
            fail(what + ": " + misses + " of " + expected.length + " elements differ by more than " + tol + " (worst " + worst
                    + "); first at " + first + ": expected " + expected[first] + " but was " + actual[first]);
    }
}
