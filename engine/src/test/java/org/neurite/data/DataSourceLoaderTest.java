package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.train.DataSources;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.layer.LayerArgs;
import org.neurite.tensor.Shape;

class DataSourceLoaderTest {
    @TempDir Path dir;

    private static LayerArgs bind(String source, Map<String, Object> named) {
        return DataSources.schema(source).bind(List.of(), named);
    }

    @Test
    void addingProblemTargetsAreTheSumOfTheTwoMarkedValues() throws Exception {
        DataSourceLoader.Splits s = DataSourceLoader.create("adding", bind("adding", Map.of("length", 10, "size", 50, "test_size", 20)), 7, dir);
        assertEquals(50, s.train().size());
        assertEquals(20, s.test().size());
        assertEquals(Shape.of(10, 2), s.train().sampleShape());
        assertFalse(s.train().isClassification());
        float[] x = s.train().features();
        for (int i = 0; i < 50; i++) {
            double sum = 0;
            int markers = 0;
            for (int t = 0; t < 10; t++) {
                if (x[i * 20 + 2 * t + 1] == 1f) { sum += x[i * 20 + 2 * t]; markers++; }
            }
            assertEquals(2, markers, "sample " + i);
            assertEquals(sum, s.train().target(i, 0), 1e-6);
        }
        // Same seed, same data; the test split is drawn from another stream.
        DataSourceLoader.Splits again = DataSourceLoader.create("adding", bind("adding", Map.of("length", 10, "size", 50, "test_size", 20)), 7, dir);
        assertEquals(s.train().target(3, 0), again.train().target(3, 0));
        assertTrue(s.train().target(0, 0) != s.test().target(0, 0));
    }

    @Test
    void textWindowsPredictTheNextCharacter() throws Exception {
        Path file = dir.resolve("t.txt");
        Files.writeString(file, "abcabcabcabcabcabcabcabcabcabcabcabcabcabc\n");
        DataSourceLoader.Splits s = DataSourceLoader.create("text", bind("text", Map.of("file", "t.txt", "length", 4)), 1, dir);
        assertEquals(List.of("\n", "a", "b", "c"), s.train().classNames());
        assertEquals(Shape.of(4), s.train().targetShape());
        // window 0 reads "abca" and must predict "bcab"
        assertEquals(1f, s.train().features()[0]);
        assertEquals(2f, s.train().target(0, 0));
        assertEquals(2f, s.train().target(0, 3));
    }

    @Test
    void tensorFilesBecomeClassificationOrRegressionData() throws Exception {
        Path train = dir.resolve("train.safetensors");
        Path test = dir.resolve("test.safetensors");
        SafeTensors.write(train, List.of(new NamedTensor("x", Shape.of(4, 3), new float[12]),
                new NamedTensor("y", Shape.of(4), new float[] {0, 2, 1, 2})), Map.of());
        SafeTensors.write(test, List.of(new NamedTensor("x", Shape.of(2, 3), new float[6]),
                new NamedTensor("y", Shape.of(2), new float[] {0, 1})), Map.of());
        DataSourceLoader.Splits s = DataSourceLoader.create("tensors", bind("tensors", Map.of("file", "train.safetensors", "test", "test.safetensors")), 1, dir);
        assertEquals(3, s.train().classes());
        assertEquals(3, s.test().classes(), "the test split scores against the training split's classes");
        DataSourceLoader.Splits r = DataSourceLoader.create("tensors",
                bind("tensors", Map.of("file", "train.safetensors", "test", "test.safetensors", "task", "regression")), 1, dir);
        assertFalse(r.train().isClassification());

        SafeTensors.write(test, List.of(new NamedTensor("x", Shape.of(2, 3), new float[6])), Map.of());
        FileFormatException e = assertThrows(FileFormatException.class, () -> DataSourceLoader.create("tensors",
                bind("tensors", Map.of("file", "train.safetensors", "test", "test.safetensors")), 1, dir));
        assertEquals(test + ": needs tensors named x and y, found [x]", e.getMessage());
    }
}
