package org.neurite.data;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import java.io.CharConversionException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * A table as a dataset: a CSV file (RFC 4180, read with Jackson's CSV parser) whose first row
 * names the columns. One column is the label; every other column is a numeric feature, so a
 * sample is a [features] vector in column order. The label is a class when the task says so or,
 * with {@code auto}, when any label is not a number or every label is a whole number ≥ 0: class
 * names are then the distinct labels, sorted (numerically when they are all whole numbers). Else
 * it is a real value (regression). A cell that is not a finite number, or a row with another
 * number of cells than the header, is refused with the file, its line and the column; so is an
 * empty label, a column name given twice, a file that is not UTF-8 or not CSV, and a test file
 * whose columns are not the training file's.
 */
public final class CsvData {
    private CsvData() {}

    /** The header, the data rows and the line of each, as read. */
    private record Table(Path file, List<String> header, List<String[]> rows, List<Integer> lines) {}

    private static Table read(Path file) throws IOException {
        return read(file, false);
    }

    /** The table of {@code file}; with {@code headerOnly}, its header and no rows (reading stops there). */
    private static Table read(Path file, boolean headerOnly) throws IOException {
        if (!Files.isRegularFile(file)) throw new FileFormatException("CSV file " + file + " does not exist");
        CsvMapper mapper = new CsvMapper().enable(CsvParser.Feature.WRAP_AS_ARRAY);
        List<String[]> rows = new ArrayList<>();
        List<Integer> lines = new ArrayList<>();
        List<String> header = null;
        int headerLine = 0;
        try (MappingIterator<String[]> it = mapper.readerFor(String[].class).readValues(file.toFile())) {
            while (it.hasNextValue()) {
                int line = it.getCurrentLocation().getLineNr();
                String[] row = it.nextValue();
                if (row.length == 1 && row[0].isBlank()) continue;   // an empty line
                if (header == null) {
                    header = List.of(trimAll(row));
                    headerLine = line;
                    if (headerOnly) break;
                } else {
                    rows.add(row);
                    lines.add(line);
                }
            }
        } catch (JsonProcessingException e) {
            // Jackson's parse errors (an unclosed quote, bytes that are not UTF-8) are IOExceptions, not
            // runtime ones: without this they reached the user as an "I/O error" naming no file, exit 1.
            throw new FileFormatException(file + lineOf(e) + ": " + (causedBy(e, CharConversionException.class)
                    ? "not valid UTF-8 text (" + e.getOriginalMessage() + "); save the table as UTF-8"
                    : "not a readable CSV file (" + e.getOriginalMessage() + ")"));
        } catch (CharConversionException e) {
            throw new FileFormatException(file + ": not valid UTF-8 text (" + e.getMessage() + "); save the table as UTF-8");
        } catch (RuntimeException e) {
            throw new FileFormatException(file + ": not a readable CSV file (" + e.getMessage() + ")");
        }
        if (header == null) throw new FileFormatException(file + ": empty CSV file; the first row must name the columns");
        // Columns are found by name (the label, and a test file's columns against the training file's),
        // so a name given twice would make the label, or which feature is which, a guess.
        for (int i = 0; i < header.size(); i++) {
            int again = header.subList(i + 1, header.size()).indexOf(header.get(i));
            if (again >= 0) {
                throw new FileFormatException(file + ":" + headerLine + ": columns " + (i + 1) + " and " + (i + 2 + again)
                        + " are both named '" + header.get(i) + "'; give every column its own name");
            }
        }
        if (!headerOnly && rows.isEmpty()) throw new FileFormatException(file + ": no data rows under the header");
        return new Table(file, header, rows, lines);
    }

    /** {@code :line} of where Jackson stopped, or nothing when it does not say. */
    private static String lineOf(JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        return at != null && at.getLineNr() > 0 ? ":" + at.getLineNr() : "";
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) if (type.isInstance(t)) return true;
        return false;
    }

    /** The column names of {@code file}'s first row (the rest of the file is not read). */
    public static List<String> header(Path file) throws IOException {
        return read(file, true).header();
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
            String v = labelCell(t, r, label);
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

    /**
     * The label of row {@code r}: an empty one is refused, since it would otherwise become a class of
     * its own (named "") and the rows without a label would be trained on as that class.
     */
    private static String labelCell(Table t, int r, int label) throws FileFormatException {
        String v = cell(t, r, label);
        if (v.isEmpty() && t.rows().get(r).length > label) {
            throw new FileFormatException(where(t, r) + ", column '" + t.header().get(label) + "': the label is empty");
        }
        return v;
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
        return load(file, labelColumn, task, classNames, split, null);
    }

    /**
     * As {@link #load(Path, String, String, List, String)}, for a test file that must have the
     * training file's columns.
     *
     * @param trainingColumns the training file's column names ({@link #header}), in order; null for no check
     */
    public static Dataset load(Path file, String labelColumn, String task, List<String> classNames, String split, List<String> trainingColumns)
            throws IOException {
        if (!List.of("auto", "classification", "regression").contains(task))
            throw new IllegalArgumentException("csv: task must be auto, classification or regression, got '" + task + "'");
        Table t = read(file);
        // Features are taken by position, so a test file with its columns in another order (or other
        // columns) would be scored on the wrong features without a word.
        if (trainingColumns != null && !t.header().equals(trainingColumns)) {
            throw new FileFormatException(file + ": the columns (" + String.join(", ", t.header()) + ") are not the training file's ("
                    + String.join(", ", trainingColumns) + "); a " + split + " file needs the same columns in the same order");
        }
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
                    y[r] = classes.isEmpty() ? value(t, r, c, v) : classIndex(t, r, c, labelCell(t, r, c), classes);
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

    /**
     * A decimal number as a table writes one: a sign, digits with an optional point, an optional
     * exponent. Double.parseDouble alone also takes Java's literal forms ("1f", "2d", hexadecimal
     * "0x1p3"), which are no table's numbers: a cell such as "1f" is more likely a typo than 1.
     */
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private static Double number(String v) {
        if (!DECIMAL.matcher(v).matches()) return null;
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
