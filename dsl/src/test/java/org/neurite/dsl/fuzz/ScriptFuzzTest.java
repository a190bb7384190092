package org.neurite.dsl.fuzz;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.statistics.Statistics;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.ModelException;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptFormatter;
import org.neurite.dsl.ScriptLoader;

/**
 * Fuzzing the .nn language: scripts mutated from the examples, scripts written from the
 * grammar, and raw files (random bytes, damaged UTF-8). For every input the loader must either
 * return a {@link Script} or throw a {@link ModelException} whose every diagnostic has a position
 * (line and column at least 1) and renders; {@code nn fmt}'s formatter must do the same. Nothing
 * else may escape: no other exception, no {@link StackOverflowError} (cases run on a 1 MiB stack,
 * the JVM default, and the loader's last-resort "nested too deeply to process" counts as a
 * failure, because the parser's own depth checks should have answered first), and no case may
 * run longer than 2 s of CPU time ({@link TimeBound}).
 *
 * <p>The seeds are fixed, so the normal build runs the same 3 × 667 cases every time
 * ({@code jqwik.tries.default} in {@code junit-platform.properties}); {@code mvn -Pfuzz} raises
 * the tries to run the ≥100,000-case campaign (see {@code docs/hardening.md}).
 */
class ScriptFuzzTest {
    private static final Duration CPU_LIMIT = Duration.ofSeconds(2);
    private static final String BACKSTOP = "script is nested too deeply to process";

    private static ScriptLoader loader;
    private static Path scratch;

    @BeforeContainer
    static void warmUp() throws IOException {
        loader = new ScriptLoader(RegisteredLayers.REGISTRY);
        scratch = Files.createTempDirectory("nn-fuzz");
        // Class loading and the first JIT passes are not the script's fault: pay for them before timing.
        for (Corpus.Seed seed : Corpus.SEEDS) {
            if (seed.file().contains("blocks")) continue; // block libraries, loaded through the examples that use them
            try {
                loader.parse(seed.file(), seed.text());
                ScriptFormatter.format(seed.file(), seed.text());
            } catch (ModelException e) {
                throw new IllegalStateException("example " + seed.file() + " no longer loads: " + e.getMessage(), e);
            }
        }
    }

    @AfterContainer
    static void removeScratch() throws IOException {
        try (var files = Files.list(scratch)) {
            for (Path p : files.toList()) Files.delete(p);
        }
        Files.delete(scratch);
    }

    /** An input and where it came from (the example and the mutations, or the generator's seed). */
    record FuzzCase(String origin, String file, String text, byte[] bytes) {
        static FuzzCase text(String origin, String file, String text) {
            return new FuzzCase(origin, file, text, null);
        }

        @Override public String toString() {
            String body = text != null ? text : new String(bytes, StandardCharsets.ISO_8859_1);
            return origin + " (" + body.length() + " chars): " + (body.length() > 600 ? body.substring(0, 600) + "..." : body);
        }
    }

    // ---- properties ----------------------------------------------------------------------------

    @Property(seed = "20261128", shrinking = ShrinkingMode.BOUNDED)
    void mutatedExamplesLoadOrFailWithAPositionedDiagnostic(@ForAll("mutatedExamples") FuzzCase input) throws Throwable {
        check(input);
    }

    @Property(seed = "11", shrinking = ShrinkingMode.OFF)
    void scriptsFromTheGrammarLoadOrFailWithAPositionedDiagnostic(@ForAll("grammarScripts") FuzzCase input) throws Throwable {
        check(input);
    }

    @Property(seed = "29", shrinking = ShrinkingMode.OFF)
    void arbitraryFilesLoadOrFailWithAPositionedDiagnostic(@ForAll("rawFiles") FuzzCase input) throws Throwable {
        check(input);
    }

    // ---- inputs --------------------------------------------------------------------------------

    @Provide
    Arbitrary<FuzzCase> mutatedExamples() {
        return Combinators.combine(
                Arbitraries.of(Corpus.SEEDS),
                Arbitraries.of(Mutation.class).list().ofMinSize(1).ofMaxSize(4),
                Arbitraries.longs()
        ).as((seed, mutations, positions) -> {
            Random r = new Random(positions);
            List<String> tokens = new ArrayList<>(seed.tokens());
            for (Mutation m : mutations) m.apply(tokens, r);
            return FuzzCase.text(seed.file() + " " + mutations + " at " + positions, seed.file(), String.join("", tokens));
        });
    }

    @Provide
    Arbitrary<FuzzCase> grammarScripts() {
        return Arbitraries.longs().map(seed -> FuzzCase.text("grammar seed " + seed, "gen.nn",
                ScriptGrammar.script(seed)));
    }

    /**
     * Bytes as a file on disk, through {@link ScriptLoader#load}: noise, a script with bytes
     * overwritten (bad UTF-8 sequences, overlong encodings, byte-order marks in the middle), or a
     * script in another encoding.
     */
    @Provide
    Arbitrary<FuzzCase> rawFiles() {
        return Combinators.combine(Arbitraries.of(Corpus.SEEDS), Arbitraries.integers().between(0, 3), Arbitraries.longs())
                .as((seed, kind, bits) -> {
                    Random r = new Random(bits);
                    byte[] text = seed.text().getBytes(StandardCharsets.UTF_8);
                    byte[] bytes = switch (kind) {
                        case 0 -> {
                            byte[] noise = new byte[r.nextInt(2000)];
                            r.nextBytes(noise);
                            yield noise;
                        }
                        case 1 -> {
                            int flips = 1 + r.nextInt(6);
                            for (int i = 0; i < flips; i++) text[r.nextInt(text.length)] = (byte) r.nextInt(256);
                            yield text;
                        }
                        case 2 -> {
                            byte[][] pieces = {{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, {(byte) 0xC0, (byte) 0x80},
                                    {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                                    {(byte) 0xE2, (byte) 0x82}, {(byte) 0xFF}, {0}, {'\r'}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80}};
                            byte[] piece = pieces[r.nextInt(pieces.length)];
                            int at = r.nextInt(text.length + 1);
                            byte[] out = new byte[text.length + piece.length];
                            System.arraycopy(text, 0, out, 0, at);
                            System.arraycopy(piece, 0, out, at, piece.length);
                            System.arraycopy(text, at, out, at + piece.length, text.length - at);
                            yield out;
                        }
                        default -> seed.text().getBytes(r.nextBoolean() ? StandardCharsets.UTF_16LE : StandardCharsets.UTF_16BE);
                    };
                    return new FuzzCase(seed.file() + " raw kind " + kind + " at " + bits, null, null, bytes);
                });
    }

    // ---- the oracle ----------------------------------------------------------------------------

    private static void check(FuzzCase input) throws Throwable {
        Object outcome = TimeBound.call(CPU_LIMIT, "loading " + input.origin(), () -> load(input));
        if (outcome instanceof Script script) {
            assertFalse(script.models().isEmpty(), "a script without models loaded");
            Statistics.label("outcome").collect("valid script");
        } else {
            ModelException e = (ModelException) outcome;
            assertPositioned(e);
            Statistics.label("outcome").collect("diagnostic");
        }
        if (input.text() != null) {
            Object formatted = TimeBound.call(CPU_LIMIT, "formatting " + input.origin(), () -> format(input));
            if (formatted instanceof ModelException e) {
                assertPositioned(e);
                // A refusal means the input parsed but its canonical form did not round-trip: a formatter bug.
                assertFalse(e.getMessage().contains("safely:"), () -> input.origin() + ": " + e.getMessage());
            }
        }
    }

    private static Object load(FuzzCase input) {
        try {
            if (input.text() != null) return loader.parse(input.file(), input.text());
            Path file = scratch.resolve("raw.nn");
            Files.write(file, input.bytes());
            return loader.load(file);
        } catch (ModelException e) {
            return e;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Object format(FuzzCase input) {
        try {
            return ScriptFormatter.format(input.file(), input.text());
        } catch (ModelException e) {
            return e;
        }
    }

    private static void assertPositioned(ModelException e) {
        assertFalse(e.diagnostics().isEmpty(), "a ModelException without diagnostics");
        for (Diagnostic d : e.diagnostics()) {
            assertTrue(d.span().line() >= 1 && d.span().column() >= 1, "diagnostic without a position: " + d.headline());
            assertFalse(d.message().contains(BACKSTOP), "the parser's depth checks missed input that overflowed the stack: "
                    + d.headline());
        }
        String rendered = loader.render(e);
        assertTrue(rendered.contains(":" + e.diagnostics().get(0).span().line() + ":"), rendered);
    }
}
