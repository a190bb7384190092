package org.neurite.dsl.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The seed scripts the mutating fuzzer starts from: every {@code examples/*.nn} and
 * {@code examples/blocks/*.nn}, read once, each split into tokens the way the .nn lexer splits
 * them (identifiers and keywords, numbers, strings, comments, two-character operators, single
 * characters), blanks kept as tokens of their own so that joining the tokens gives the file back.
 * The scripts keep their real paths, so a mutated {@code use "blocks/resnet.nn"} still resolves.
 */
final class Corpus {
    /** A seed script: its path (used as the file name, so imports resolve) and its tokens. */
    record Seed(String file, List<String> tokens) {
        String text() {
            return String.join("", tokens);
        }

        @Override public String toString() {
            return file;
        }
    }

    static final Path EXAMPLES = Path.of("..", "examples");

    private static final Pattern TOKEN = Pattern.compile(
            "#[^\\r\\n]*"                                  // comment
            + "|\"(?:[^\"\\\\\\r\\n]|\\\\.)*\"?"              // string, possibly unterminated
            + "|[0-9]+(?:\\.[0-9]*)?(?:[eE][+-]?[0-9]+)?"   // number
            + "|\\.[0-9]+(?:[eE][+-]?[0-9]+)?"
            + "|[A-Za-z_][A-Za-z_0-9]*"                     // identifier or keyword
            + "|->|==|!=|<=|>="                             // two-character operators
            + "|[ \\t\\r\\n\\f]+"                           // blanks
            + "|.", Pattern.DOTALL);                        // anything else, one character

    static final List<Seed> SEEDS = load();

    /** Every distinct non-blank token of the corpus: what a replacement or insertion draws from. */
    static final List<String> VOCABULARY = SEEDS.stream().flatMap(s -> s.tokens().stream())
            .filter(t -> !isBlank(t)).distinct().sorted().toList();

    private Corpus() {}

    static List<String> tokens(String text) {
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(text);
        while (m.find()) tokens.add(m.group());
        return tokens;
    }

    static boolean isBlank(String token) {
        return token.isBlank();
    }

    private static List<Seed> load() {
        try (Stream<Path> top = Files.list(EXAMPLES); Stream<Path> blocks = Files.list(EXAMPLES.resolve("blocks"))) {
            List<Seed> seeds = Stream.concat(top, blocks)
                    .filter(p -> p.getFileName().toString().endsWith(".nn"))
                    .sorted()
                    .map(Corpus::read)
                    .toList();
            if (seeds.size() < 10) throw new IllegalStateException("expected the example scripts in " + EXAMPLES.toAbsolutePath());
            return seeds;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Seed read(Path file) {
        try {
            String text = Files.readString(file);
            List<String> tokens = tokens(text);
            if (!String.join("", tokens).equals(text)) throw new IllegalStateException("tokens of " + file + " do not join to its text");
            return new Seed(file.toString(), List.copyOf(tokens));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
