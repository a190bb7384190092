package org.neurite.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.neurite.io.FileFormatException;
import org.neurite.tensor.Shape;

/**
 * Character-level text for language models: the vocabulary is every distinct character of the
 * file (sorted, so it is the same on every run), and the text is cut into windows of
 * {@code length + 1} characters: the first {@code length} are the input (character indices as
 * floats, [length]) and the last {@code length} the targets, one per step (the next character).
 * Windows do not overlap; the last tenth of them is the test split. Backpropagation through time
 * is therefore truncated at {@code length} steps.
 *
 * <p>The vocabulary travels as the datasets' class names, so a sampler can map indices back.
 */
public final class CharText {
    /** Text files beyond this are refused (read whole into memory). */
    public static final long MAX_BYTES = 64L << 20;

    private CharText() {}

    /** Train and test splits of {@code file}. */
    public record Splits(Dataset train, Dataset test, List<String> vocabulary) {}

    public static Splits load(Path file, int length) throws IOException {
        if (length < 1) throw new IllegalArgumentException("text windows need at least 1 step, got " + length);
        long size = Files.size(file);
        if (size > MAX_BYTES) throw new FileFormatException(file + ": text file of " + size + " bytes is larger than " + MAX_BYTES);
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new FileFormatException(file + ": not UTF-8 text");
        }
        int[] codePoints = text.codePoints().toArray();
        TreeSet<Integer> distinct = new TreeSet<>();
        for (int cp : codePoints) distinct.add(cp);
        List<String> vocabulary = new ArrayList<>();
        for (int cp : distinct) vocabulary.add(new String(Character.toChars(cp)));
        int windows = (codePoints.length - 1) / length;
        if (windows < 2) {
            throw new FileFormatException(file + ": " + codePoints.length + " characters are too few for two windows of " + length);
        }
        int[] index = new int[Character.MAX_CODE_POINT + 1];
        int k = 0;
        for (int cp : distinct) index[cp] = k++;
        int testWindows = Math.max(1, windows / 10);
        int trainWindows = windows - testWindows;
        String name = file.getFileName().toString();
        Dataset train = windows(name, codePoints, index, 0, trainWindows, length, vocabulary, "train");
        Dataset test = windows(name, codePoints, index, trainWindows, testWindows, length, vocabulary, "test");
        return new Splits(train, test, vocabulary);
    }

    private static Dataset windows(String name, int[] cps, int[] index, int first, int count, int length,
                                   List<String> vocabulary, String split) {
        float[] x = new float[count * length];
        float[] y = new float[count * length];
        for (int w = 0; w < count; w++) {
            int start = (first + w) * length;
            for (int t = 0; t < length; t++) {
                x[w * length + t] = index[cps[start + t]];
                y[w * length + t] = index[cps[start + t + 1]];
            }
        }
        return new Dataset(name, Shape.of(length), x, Shape.of(length), y, vocabulary.size(), vocabulary, false,
                count + " " + split + " windows of " + length + " characters of " + name + " (" + vocabulary.size() + " distinct)");
    }
}
