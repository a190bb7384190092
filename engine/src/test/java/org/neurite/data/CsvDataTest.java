package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/** Tables as datasets: features in column order, labels as classes or values, and bad cells named by line and column. */
class CsvDataTest {
    @TempDir Path dir;

    private Path csv(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test void namedClassesAreSortedAndFeaturesKeepColumnOrder() throws IOException {
        Path f = csv("iris.csv", "sepal,species,petal\n5.1,setosa,1.4\n\"7.0\", versicolor ,4.7\n\n6.3,virginica,6.0\n");
        Dataset d = CsvData.load(f, "species", "auto", null, "training");
        assertEquals(Shape.of(2), d.sampleShape());
        assertEquals(List.of("setosa", "versicolor", "virginica"), d.classNames());
        assertArrayEquals(new float[] {5.1f, 1.4f, 7.0f, 4.7f, 6.3f, 6.0f}, d.features());
        assertEquals(List.of(0, 1, 2), List.of(d.label(0), d.label(1), d.label(2)));
    }

    @Test void wholeNumberLabelsAreClassesInNumericOrderAndRealOnesAValue() throws IOException {
        Dataset classes = CsvData.load(csv("c.csv", "x,y\n1,10\n2,2\n3,2.0\n"), "y", "auto", null, "training");
        assertEquals(List.of("2", "10"), classes.classNames());
        assertEquals(List.of(1, 0, 0), List.of(classes.label(0), classes.label(1), classes.label(2)));

        Dataset values = CsvData.load(csv("r.csv", "x,y\n1,0.5\n2,-3\n"), "y", "auto", null, "training");
        assertEquals(0, values.classes());
        assertEquals(-3f, values.target(1, 0));
    }

    @Test void badCellsAndRowsAreNamedByLineAndColumn() throws IOException {
        Path f = csv("bad.csv", "a,b,label\n1,2,x\n3,abc,y\n");
        assertEquals(f + ":3, column 'b': 'abc' is not a finite number",
                assertThrows(FileFormatException.class, () -> CsvData.load(f, "label", "auto", null, "training")).getMessage());
        Path empty = csv("empty.csv", "a,b,label\n1,,x\n");
        assertEquals(empty + ":2, column 'b': an empty cell is not a finite number",
                assertThrows(FileFormatException.class, () -> CsvData.load(empty, "label", "auto", null, "training")).getMessage());
        Path nan = csv("nan.csv", "a,label\nNaN,x\n");
        assertEquals(nan + ":2, column 'a': 'NaN' is not a finite number",
                assertThrows(FileFormatException.class, () -> CsvData.load(nan, "label", "auto", null, "training")).getMessage());
        Path ragged = csv("ragged.csv", "a,b,label\n1,2,x\n1,x\n");
        assertEquals(ragged + ":3: 2 cells, but the header names 3 columns",
                assertThrows(FileFormatException.class, () -> CsvData.load(ragged, "label", "auto", null, "training")).getMessage());
        FileFormatException noLabel = assertThrows(FileFormatException.class, () -> CsvData.load(f, "class", "auto", null, "training"));
        assertEquals(f + ": no column 'class' for the label; the columns are a, b, label", noLabel.getMessage());
        Path regression = csv("reg.csv", "a,y\n1,low\n");
        assertTrue(assertThrows(FileFormatException.class, () -> CsvData.load(regression, "y", "regression", null, "training"))
                .getMessage().endsWith(":2, column 'y': 'low' is not a finite number"));
    }

    @Test void aTestFileIsLabelledWithTheTrainingClasses() throws IOException {
        List<String> classes = CsvData.classNames(csv("train.csv", "a,label\n1,cat\n2,dog\n"), "label", "auto");
        Dataset test = CsvData.load(csv("test.csv", "a,label\n5,dog\n"), "label", "auto", classes, "test");
        assertEquals(1, test.label(0));
        assertEquals(2, test.classes());
        Path unknown = csv("unknown.csv", "a,label\n5,bird\n");
        assertEquals(unknown + ":2, column 'label': class 'bird' is not one of the training classes (cat, dog)",
                assertThrows(FileFormatException.class, () -> CsvData.load(unknown, "label", "auto", classes, "test")).getMessage());
    }

    @Test void aHeldOutValidationSplitIsSeededAndDisjoint() throws IOException {
        StringBuilder text = new StringBuilder("a,label\n");
        for (int i = 0; i < 20; i++) text.append(i).append(',').append(i % 2 == 0 ? "even" : "odd").append('\n');
        Dataset all = CsvData.load(csv("n.csv", text.toString()), "label", "auto", null, "training");
        DataSourceLoader.Splits s = DataSourceLoader.holdOut(all, 0.25, 7);
        assertEquals(15, s.train().size());
        assertEquals(5, s.test().size());
        java.util.Set<Float> seen = new java.util.HashSet<>();
        for (float v : s.train().features()) seen.add(v);
        for (float v : s.test().features()) assertTrue(seen.add(v), "sample " + v + " is in both splits");
        assertArrayEquals(s.test().features(), DataSourceLoader.holdOut(all, 0.25, 7).test().features(), "same seed, same split");
        assertEquals(List.of("even", "odd"), s.test().classNames());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> DataSourceLoader.holdOut(all, 0.01, 7));
        assertTrue(none.getMessage().contains("test_fraction = 0.01 of 20 samples leaves 20 to train on and 0 to hold out"), none.getMessage());
    }

    @Test void anEmptyLabelIsRefusedNotMadeAClass() throws IOException {
        Path f = csv("nolabel.csv", "a,label\n1,x\n2,y\n3,\n");
        assertEquals(f + ":4, column 'label': the label is empty",
                assertThrows(FileFormatException.class, () -> CsvData.load(f, "label", "auto", null, "training")).getMessage());
        assertThrows(FileFormatException.class, () -> CsvData.classNames(f, "label", "auto"));
        Path test = csv("test-nolabel.csv", "a,label\n1,\n");
        assertEquals(test + ":2, column 'label': the label is empty", assertThrows(FileFormatException.class,
                () -> CsvData.load(test, "label", "auto", List.of("x", "y"), "test")).getMessage());
    }

    @Test void aColumnNamedTwiceIsRefused() throws IOException {
        Path f = csv("dup.csv", "\nlabel,b,label\n1,2,3\n");
        assertEquals(f + ":2: columns 1 and 3 are both named 'label'; give every column its own name",
                assertThrows(FileFormatException.class, () -> CsvData.load(f, "label", "auto", null, "training")).getMessage());
    }

    @Test void aTestFileNeedsTheTrainingColumnsInTheirOrder() throws IOException {
        Path train = csv("train.csv", "a,b,label\n1,2,x\n3,4,y\n");
        Path swapped = csv("swapped.csv", "b,a,label\n2,1,x\n");
        assertEquals(List.of("a", "b", "label"), CsvData.header(train));
        assertEquals(swapped + ": the columns (b, a, label) are not the training file's (a, b, label); a test file needs the same "
                + "columns in the same order", assertThrows(FileFormatException.class,
                () -> CsvData.load(swapped, "label", "auto", List.of("x", "y"), "test", CsvData.header(train))).getMessage());
        Dataset same = CsvData.load(csv("same.csv", "a, b ,label\n5,6,y\n"), "label", "auto", List.of("x", "y"), "test",
                CsvData.header(train));
        assertArrayEquals(new float[] {5, 6}, same.features());
    }

    @Test void unreadableTextIsNamedWithItsFile() throws IOException {
        Path latin1 = Files.write(dir.resolve("latin1.csv"), "a,caf\u00e9\n1,2\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        String m = assertThrows(FileFormatException.class, () -> CsvData.load(latin1, "a", "auto", null, "training")).getMessage();
        assertTrue(m.startsWith(latin1 + ": not valid UTF-8 text (Invalid UTF-8"), m);
        Path quote = csv("quote.csv", "a,label\n1,\"x\n2,y\n");
        m = assertThrows(FileFormatException.class, () -> CsvData.load(quote, "label", "auto", null, "training")).getMessage();
        assertTrue(m.startsWith(quote + ":4: not a readable CSV file (Missing closing quote"), m);
        assertTrue(!m.contains("reference chain"), m);
    }

    @Test void numbersAreDecimalsNotJavaLiterals() throws IOException {
        for (String cell : List.of("1f", "2d", "0x1p3", "1e", "--1", "Infinity")) {
            Path f = csv("n.csv", "a,label\n" + cell + ",x\n");
            assertEquals(f + ":2, column 'a': '" + cell + "' is not a finite number",
                    assertThrows(FileFormatException.class, () -> CsvData.load(f, "label", "auto", null, "training")).getMessage());
        }
        Dataset d = CsvData.load(csv("ok.csv", "a,label\n-1.5e2,x\n+.5,x\n3.,x\n1E-1,x\n"), "label", "auto", null, "training");
        assertArrayEquals(new float[] {-150f, 0.5f, 3f, 0.1f}, d.features());
    }
}
