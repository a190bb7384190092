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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.DiagnosticPrinter;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.ModelDecl;
import org.neurite.dsl.ast.SourceFile;
import org.neurite.dsl.ast.TrainDecl;
import org.neurite.dsl.parser.ScriptParser;
import org.neurite.graph.LayerRegistry;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * Loads {@code .nn} scripts: UTF-8 text → AST ({@link ScriptParser}) → per-model resolution
 * against the {@link LayerRegistry} and shape inference → {@link Script}.
 *
 * <p>Every problem with the input is a {@link ModelException} whose diagnostics carry exact
 * spans; nothing else escapes, whatever the bytes. Each model and train section is checked on
 * its own, so one run reports the first error of every section, sorted by position.
 * {@link #render} prints them with the source line and a caret; the loader remembers the text
 * of every file it has seen for that.
 */
public final class ScriptLoader {
    private final LayerRegistry registry;
    private final Map<String, String> sources = new ConcurrentHashMap<>();

    public ScriptLoader(LayerRegistry registry) {
        this.registry = registry;
    }

    /** Reads {@code file} as strict UTF-8 (a bad byte is a diagnostic) and parses it. */
    public Script load(Path file) throws ModelException, IOException {
        String name = file.toString();
        byte[] bytes = Files.readAllBytes(file);
        return parse(name, decode(name, bytes));
    }

    /** Parses {@code source}; {@code fileName} appears in every diagnostic. */
    public Script parse(String fileName, String source) throws ModelException {
        if (!source.isEmpty() && source.charAt(0) == '\uFEFF') source = source.substring(1);
        sources.put(fileName, source);
        try {
            return resolve(ScriptParser.parse(fileName, source), source);
        } catch (StackOverflowError e) {
            // The parser guards nesting depth; this is the backstop for a JVM with a tiny stack.
            throw new ModelException(SourceSpan.at(fileName, 1, 1), "script is nested too deeply to process");
        }
    }

    /** {@code file:line:col: error: message}, the source line and a caret, for each diagnostic. */
    public String render(ModelException e) {
        return new DiagnosticPrinter(sources::get).render(e.diagnostics());
    }

    private Script resolve(SourceFile ast, String source) {
        if (ast.models().isEmpty()) throw new ModelException(SourceSpan.at(ast.file(), 1, 1), "no model defined");
        List<Diagnostic> errors = new ArrayList<>();
        List<TypedGraph> models = new ArrayList<>();
        Map<String, ModelDecl> byName = new HashMap<>();
        for (ModelDecl m : ast.models()) {
            ModelDecl first = byName.putIfAbsent(m.name(), m);
            if (first != null) {
                errors.add(Duplicates.diagnostic(m.nameSpan(), "duplicate model '" + m.name() + "'", first.nameSpan(),
                        "'" + m.name() + "' is first defined here"));
                continue;
            }
            try {
                models.add(ModelResolver.resolve(registry, m));
            } catch (ModelException e) {
                errors.addAll(e.diagnostics());
            }
        }
        List<TrainSpec> trainings = new ArrayList<>();
        Map<String, TrainDecl> trained = new HashMap<>();
        Set<String> modelNames = new LinkedHashSet<>(byName.keySet());
        for (TrainDecl t : ast.trainings()) {
            TrainDecl first = trained.putIfAbsent(t.model(), t);
            if (first != null) {
                errors.add(Duplicates.diagnostic(t.modelSpan(), "model '" + t.model() + "' has two train sections",
                        first.modelSpan(), "the first is here"));
                continue;
            }
            try {
                trainings.add(TrainResolver.resolve(t, modelNames));
            } catch (ModelException e) {
                errors.addAll(e.diagnostics());
            }
        }
        if (!errors.isEmpty()) {
            errors.sort(Comparator.comparingInt((Diagnostic d) -> d.span().line()).thenComparingInt(d -> d.span().column()));
            throw new ModelException(errors);
        }
        return new Script(ast.file(), source, models, trainings);
    }

    /**
     * Strict UTF-8. The diagnostic for a bad byte points at the character where decoding stopped;
     * the text kept for rendering replaces bad bytes with U+FFFD, which the printer shows as '?'.
     */
    private String decode(String file, byte[] bytes) {
        CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult result = strict.decode(in, out, true);
        if (!result.isError()) {
            strict.flush(out);
            return out.flip().toString();
        }
        int bad = in.position();
        String good = out.flip().toString();
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
        sources.put(file, new String(bytes, StandardCharsets.UTF_8));
        throw new ModelException(new SourceSpan(file, line, column, line, column + 1), String.format(
                "file is not valid UTF-8 (byte 0x%02X at offset %d); is it a binary file?", bytes[bad] & 0xFF, bad));
    }
}
