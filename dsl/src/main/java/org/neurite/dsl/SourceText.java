package org.neurite.dsl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;

/**
 * Script bytes to text: strict UTF-8, so a binary file or a Latin-1 file is a positioned
 * diagnostic instead of mojibake, and a leading byte-order mark is dropped
 * (and a lone carriage return read as a line end). Shared by the loader
 * (main file and every {@code use}d file) and {@code nn fmt}.
 */
final class SourceText {
    /** Largest script read: far beyond any real model, small enough to refuse a wrong file quickly. */
    static final long MAX_BYTES = 16L << 20;

    private SourceText() {}

    /**
     * Why {@code path} cannot be a script without reading it (a device, a pipe, a folder, a file
     * over {@link #MAX_BYTES}), or null when it may be read. Reading {@code /dev/zero} would
     * never end.
     */
    static String unreadable(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            // nn train's run folders hold the script they trained as model.nn
            Path script = path.resolve("model.nn");
            return Files.isRegularFile(script) ? "it is a folder; its script is " + script : "it is a folder";
        }
        if (Files.exists(path) && !Files.isRegularFile(path)) return "it is not a regular file";
        if (Files.exists(path) && Files.size(path) > MAX_BYTES) {
            return "it is larger than " + (MAX_BYTES >> 20) + " MiB (" + Files.size(path) + " bytes)";
        }
        return null;
    }

    /**
     * The text of {@code bytes}. On a bad byte, {@code lossy} receives the text with U+FFFD in
     * its place (so the diagnostic can still show the line, where the printer draws '?') and a
     * diagnostic points at the character where decoding stopped.
     */
    static String decode(String file, byte[] bytes, BiConsumer<String, String> lossy) {
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult result = strict.decode(in, out, true);
        if (!result.isError()) {
            strict.flush(out);
            return withoutByteOrderMark(out.flip().toString());
        }
        int bad = in.position();
        String good = withoutByteOrderMark(out.flip().toString());
        int line = 1;
        int column = 1;
        for (int i = 0; i < good.length(); i += Character.charCount(good.codePointAt(i))) {
            if (good.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        lossy.accept(file, withoutByteOrderMark(new String(bytes, StandardCharsets.UTF_8)));
        throw new ModelException(new SourceSpan(file, line, column, line, column + 1), String.format(
                "file is not valid UTF-8 (byte 0x%02X at offset %d); is it a binary file?", bytes[bad] & 0xFF, bad));
    }

    /**
     * {@code source} without a leading byte-order mark, and with every carriage return that does
     * not start a CRLF made a line feed: a file with classic Mac line ends (CR alone) has the lines
     * an editor shows, so diagnostics name the right line and {@code nn fmt} keeps its comments
     * where they were.
     */
    static String withoutByteOrderMark(String source) {
        String text = !source.isEmpty() && source.charAt(0) == '\uFEFF' ? source.substring(1) : source;
        return text.indexOf('\r') < 0 ? text : LONE_CR.matcher(text).replaceAll("\n");
    }

    private static final Pattern LONE_CR = Pattern.compile("\r(?!\n)");
}
