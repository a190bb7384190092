package org.neurite.data;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * A table as a dataset: a CSV file (RFC 4180, read with Jackson's CSV parser) whose first row
 * names the columns. One column is the label; every other column is a numeric feature, so a
 * sample is a [features] vector in column order. The label is a class when the task says so or,
 * with {@code auto}, when any label is not a number or every label is a whole number ≥ 0: class
 * names are then the distinct labels, sorted (numerically when they are all whole numbers). Else
 * it is a real value (regression). A cell that is not a finite number, or a row with another
 * number of cells than the header, is refused with the file, its line and the column.
 */
public final class CsvData {
    private CsvData() {}

    /** The header, the data rows and the line of each, as read. */
    private record Table(Path file, List<String> header, List<String[]> rows, List<Integer> lines) {}

    private static Table read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new FileFormatException("CSV file " + file + " does not exist");
        CsvMapper mapper = new CsvMapper().enable(CsvParser.Feature.WRAP_AS_ARRAY);
        List<String[]> rows = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        List<String> header = null;
        try (MappingIterator<String[]> it = mapper.readerFor(String[].class).readValues(file.toFile())) {
            while (it.hasNextValue()) {
                int line = it.getCurrentLocation().getLineNr();
                String[] row = it.nextValue();
                if (row.length == 1 && row[0].isBlank()) continue;   // an empty line
                if (header == null) {
                    header = List.of(trimAll(row));
                } else {
                    rows.add(row);
                    lines.add(line);
                }
            }
        } catch (RuntimeException e) {
            throw new FileFormatException(file + ": not a readable CSV file (" + e.getMessage() + ")");
        }
        if (header == null) throw new FileFormatException(file + ": empty CSV file; the first row must name the columns");
        if (rows.isEmpty()) throw new FileFormatException(file + ": no data rows under the header");
        return new Table(file, header, rows, lines);
    }

    private static String[] trimAll(String[] row) {
        String[] out = new String[row.length];
        for (int i = 0; i < row.length; i++) out[i] = row[i].trim();
        return out;
    }

    /** The class names a classification over {@code labelColumn} of {@code file} has (empty for regression). */
    public static List<String> classNames(Path file, String labelColumn, String task) throws IOException {
        Table t = read(file);
        return classesOf(t, labelIndex(t, labelColumn), task);
    }

    private static int labelIndex(Table t, String labelColumn) throws FileFormatException {
        int index = t.header().indexOf(labelColumn);
        if (index < 0) {
            throw new FileFormatException(t.file() + ": no column '" + labelColumn + "' for the label; the columns are "
                    + String.join(", ", t.header()));
        }
        if (t.header().size() < 2) throw new FileFormatException(t.file() + ": only the label column; a sample needs at least one feature column");
        return index;
    }

    private static List<String> classesOf(Table t, int label, String task) throws FileFormatException {
        if (task.equals("regression")) return List.of();
        boolean allWhole = true, allNumbers = true;
        for (int r = 0; r < t.rows().size(); r++) {
            String v = cell(t, r, label);
            Double d = number(v);
            if (d == null) allNumbers = false;
            else if (!(d >= 0 && d == Math.rint(d) && d < 1e6)) allWhole = false;
        }
        if (task.equals("auto") && allNumbers && !allWhole) return List.of();   // real-valued: regression
        if (allNumbers && !allWhole) {
            throw new FileFormatException(t.file() + ": task is classification but column '" + t.header().get(label)
                    + "' holds numbers that are not whole numbers >= 0");
        }
        TreeSet<String> names = allNumbers
                ? new TreeSet<>((a, b) -> Double.compare(Double.parseDouble(a), Double.parseDouble(b)))
                : new TreeSet<>();
        for (int r = 0; r < t.rows().size(); r++) names.add(allNumbers ? canonicalWhole(cell(t, r, label)) : cell(t, r, label));
        return List.copyOf(names);
    }

    private static String canonicalWhole(String v) {
        return Long.toString((long) Double.parseDouble(v));
    }

    /**
     * The rows of {@code file} as a dataset.
     *
     * @param classNames for a test split, the training split's classes (labels are indices into
     *     them); null to derive them from this file
     * @param task auto, classification or regression
     * @param split "training" or "test", for messages
     */
    public static Dataset load(Path file, String labelColumn, String task, List<String> classNames, String split) throws IOException {
        if (!List.of("auto", "classification", "regression").contains(task))
            throw new IllegalArgumentException("csv: task must be auto, classification or regression, got '" + task + "'");
        Table t = read(file);
        int label = labelIndex(t, labelColumn);
        List<String> classes = classNames != null ? classNames : classesOf(t, label, task);
        int columns = t.header().size(), features = columns - 1, n = t.rows().size();
        float[] x = new float[Math.multiplyExact(n, features)];
        float[] y = new float[n];
        for (int r = 0; r < n; r++) {
            String[] row = t.rows().get(r);
            if (row.length != columns) {
                throw new FileFormatException(where(t, r) + ": " + row.length + " cells, but the header names " + columns + " columns");
            }
            int k = 0;
            for (int c = 0; c < columns; c++) {
                String v = row[c].trim();
                if (c == label) {
                    y[r] = classes.isEmpty() ? value(t, r, c, v) : classIndex(t, r, c, v, classes);
                } else {
                    x[r * features + k++] = value(t, r, c, v);
                }
            }
        }
        String name = file.getFileName().toString();
        String what = n + " rows of " + features + " features from " + file + " (" + split + "), label '" + labelColumn + "'";
        return new Dataset(name, Shape.of(features), x, Shape.of(), y, classes.size(), classes, false,
                classes.isEmpty() ? what + ", regression" : what + ", " + classes.size() + " classes");
    }

    private static String cell(Table t, int r, int c) {
        String[] row = t.rows().get(r);
        return c < row.length ? row[c].trim() : "";
    }

    private static String where(Table t, int r) {
        return t.file() + ":" + t.lines().get(r);
    }

    private static Double number(String v) {
        try {
            double d = Double.parseDouble(v);
            return Double.isFinite(d) ? d : null;
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static float value(Table t, int r, int c, String v) throws FileFormatException {
        Double d = number(v);
        if (d == null) {
            throw new FileFormatException(where(t, r) + ", column '" + t.header().get(c) + "': "
                    + (v.isEmpty() ? "an empty cell" : "'" + v + "'") + " is not a finite number");
        }
        return d.floatValue();
    }

    private static float classIndex(Table t, int r, int c, String v, List<String> classes) throws FileFormatException {
        Double d = number(v);
        String key = d != null && d >= 0 && d == Math.rint(d) ? canonicalWhole(v) : v;
        int index = classes.indexOf(key);
        if (index < 0) {
            throw new FileFormatException(where(t, r) + ", column '" + t.header().get(c) + "': class '" + v
                    + "' is not one of the training classes (" + String.join(", ", classes) + ")");
        }
        return index;
    }
}
