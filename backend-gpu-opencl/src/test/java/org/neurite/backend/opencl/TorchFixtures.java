package org.neurite.backend.opencl;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.neurite.backend.Backend;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Tensor;

/**
 * One of backend-cpu's PyTorch fixture files ({@code backend-cpu/src/test/resources/fixtures},
 * made by {@code tools/fixtures/ops/make_op_fixtures.py}), read in place so both backends are
 * held to the same references: tensors named {@code <case>.<tensor>} and each case's settings as
 * JSON in the file's metadata. The folder comes from {@code -Dneurite.fixtures} (the pom sets it)
 * or defaults to {@code ../backend-cpu/src/test/resources/fixtures}.
 */
final class TorchFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String file;
    private final SafeTensors.Contents contents;

    private TorchFixtures(String file, SafeTensors.Contents contents) {
        this.file = file;
        this.contents = contents;
    }

    static TorchFixtures load(String name) {
        String dir = System.getProperty("neurite.fixtures", "../backend-cpu/src/test/resources/fixtures");
        Path path = Path.of(dir, name + ".safetensors");
        if (!Files.isRegularFile(path))
            throw new IllegalStateException("missing PyTorch fixture " + path.toAbsolutePath() + " (backend-cpu's test resources)");
        try {
            return new TorchFixtures(name, SafeTensors.read(path));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Case names with their settings, in file order. */
    Map<String, String> cases() { return contents.metadata(); }

    JsonNode settings(String caseName) {
        try {
            return JSON.readTree(contents.metadata().get(caseName));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    boolean has(String caseName, String tensor) { return contents.get(caseName + "." + tensor) != null; }

    NamedTensor tensor(String caseName, String tensor) {
        NamedTensor t = contents.get(caseName + "." + tensor);
        if (t == null) throw new IllegalStateException(file + ": no tensor " + caseName + "." + tensor);
        return t;
    }

    float[] values(String caseName, String tensor) { return tensor(caseName, tensor).data(); }

    /** The fixture tensor uploaded to {@code backend}, with its shape. */
    Tensor upload(Backend backend, String caseName, String tensor) {
        NamedTensor t = tensor(caseName, tensor);
        Tensor out = backend.allocate(t.shape());
        backend.upload(t.data(), out);
        return out;
    }
}
