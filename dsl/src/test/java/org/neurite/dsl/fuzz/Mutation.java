package org.neurite.dsl.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One way to damage a script, applied to its token list (blanks are tokens too, see
 * {@link Corpus}). Positions and choices come from the {@link Random} the case was built with,
 * so a case is reproduced by its seed. The kinds follow the brief: token deletion, duplication
 * and swap; random bytes, NUL bytes and random Unicode; deep nesting; huge numbers; long lines;
 * plus truncation and splicing in a piece of another script.
 */
enum Mutation {
    DELETE_TOKEN {
        @Override void apply(List<String> tokens, Random r) {
            tokens.remove(significant(tokens, r));
            if (tokens.isEmpty()) tokens.add(""); // every mutation needs a token to work on
        }
    },
    DUPLICATE_TOKEN {
        @Override void apply(List<String> tokens, Random r) {
            int i = significant(tokens, r);
            tokens.add(i, tokens.get(i));
        }
    },
    SWAP_TOKENS {
        @Override void apply(List<String> tokens, Random r) {
            int a = significant(tokens, r);
            // Half the time a neighbour (`conv(6 ,` → `conv 6(,`), otherwise anywhere.
            int b = r.nextBoolean() ? nextSignificant(tokens, a) : significant(tokens, r);
            String t = tokens.get(a);
            tokens.set(a, tokens.get(b));
            tokens.set(b, t);
        }
    },
    REPLACE_TOKEN {
        @Override void apply(List<String> tokens, Random r) {
            tokens.set(significant(tokens, r), pick(Corpus.VOCABULARY, r));
        }
    },
    INSERT_TOKEN {
        @Override void apply(List<String> tokens, Random r) {
            tokens.add(r.nextInt(tokens.size() + 1), pick(Corpus.VOCABULARY, r));
        }
    },
    RANDOM_CHARACTERS {
        @Override void apply(List<String> tokens, Random r) {
            StringBuilder s = new StringBuilder();
            int n = 1 + r.nextInt(16);
            for (int i = 0; i < n; i++) s.append((char) r.nextInt(256)); // what a stray byte becomes in Latin-1 text
            tokens.add(r.nextInt(tokens.size() + 1), s.toString());
        }
    },
    NUL_BYTE {
        @Override void apply(List<String> tokens, Random r) {
            tokens.add(r.nextInt(tokens.size() + 1), "\0");
        }
    },
    RANDOM_UNICODE {
        @Override void apply(List<String> tokens, Random r) {
            StringBuilder s = new StringBuilder();
            int n = 1 + r.nextInt(8);
            for (int i = 0; i < n; i++) {
                switch (r.nextInt(6)) {
                    case 0 -> s.append((char) (0xD800 + r.nextInt(0x800)));          // a lone surrogate
                    case 1 -> s.append(pick(List.of("\u200B", "\u202E", "\uFEFF", "\uFFFE", "\uFFFF", "\u2028", "\u00A0", "\u0085"), r));
                    case 2 -> s.appendCodePoint(0x1F300 + r.nextInt(0x300));         // emoji
                    case 3 -> s.appendCodePoint(0x10000 + r.nextInt(0x100000));       // any supplementary code point
                    case 4 -> s.appendCodePoint(0x0370 + r.nextInt(0x2000));          // letters a Java identifier accepts
                    default -> s.append((char) r.nextInt(0x10000));
                }
            }
            // Inside an identifier half the time: `co\u200Bnv`.
            int i = significant(tokens, r);
            String t = tokens.get(i);
            int at = r.nextInt(t.length() + 1);
            tokens.set(i, r.nextBoolean() ? t.substring(0, at) + s + t.substring(at) : s + t);
        }
    },
    DEEP_NESTING {
        @Override void apply(List<String> tokens, Random r) {
            int i = significant(tokens, r);
            // Often just under or over the parser's limit of 64, sometimes far beyond it.
            int depth = r.nextBoolean() ? 60 + r.nextInt(10) : 1 + r.nextInt(3000);
            String[][] kinds = {{"(", ")"}, {"[", "]"}, {"{", "}"}, {"-", ""}, {"not ", ""}, {"if true then ", " else 0"},
                    {"relu(", ")"}, {"[1, ", "]"}};
            String[] kind = kinds[r.nextInt(kinds.length)];
            tokens.set(i, kind[0].repeat(depth) + tokens.get(i) + kind[1].repeat(depth));
        }
    },
    HUGE_NUMBER {
        @Override void apply(List<String> tokens, Random r) {
            List<Integer> numbers = new ArrayList<>();
            for (int i = 0; i < tokens.size(); i++) if (!tokens.get(i).isEmpty() && Character.isDigit(tokens.get(i).charAt(0))) numbers.add(i);
            int i = numbers.isEmpty() ? significant(tokens, r) : numbers.get(r.nextInt(numbers.size()));
            tokens.set(i, pick(List.of("2147483647", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
                    "99999999999999999999999999999999", "1e308", "1e309", "1e-400", "1.7976931348623157e308", "4.9e-324",
                    "0.0000000000000000000000000001", "00000000000000000000000000001", "1e2147483648", "1" + "0".repeat(5000),
                    "0." + "9".repeat(5000), "65536", "46341", "0", "1e-45"), r));
        }
    },
    LONG_LINE {
        @Override void apply(List<String> tokens, Random r) {
            int n = 1_000 + r.nextInt(9_000); // lines of 1,000 to 130,000 characters
            String piece = pick(List.of(" -> relu", ", 1", "a", "+ x", "1", "# ", "(", ")", " ", "x = relu;", "[", "-> (relu)", "\"s\","), r);
            tokens.add(r.nextInt(tokens.size() + 1), piece.repeat(n));
        }
    },
    TRUNCATE {
        @Override void apply(List<String> tokens, Random r) {
            tokens.subList(r.nextInt(tokens.size()), tokens.size()).clear();
            if (tokens.isEmpty()) tokens.add("");
        }
    },
    SPLICE {
        @Override void apply(List<String> tokens, Random r) {
            List<String> other = pick(Corpus.SEEDS, r).tokens();
            int from = r.nextInt(other.size());
            int to = Math.min(other.size(), from + 1 + r.nextInt(60));
            tokens.addAll(r.nextInt(tokens.size() + 1), other.subList(from, to));
        }
    };

    abstract void apply(List<String> tokens, Random r);

    /** The index of a random token that is not blank (or any index when all are). */
    static int significant(List<String> tokens, Random r) {
        for (int attempt = 0; attempt < 20; attempt++) {
            int i = r.nextInt(tokens.size());
            if (!Corpus.isBlank(tokens.get(i))) return i;
        }
        return r.nextInt(tokens.size());
    }

    private static int nextSignificant(List<String> tokens, int from) {
        for (int i = from + 1; i < tokens.size(); i++) if (!Corpus.isBlank(tokens.get(i))) return i;
        return from;
    }

    static <T> T pick(List<T> items, Random r) {
        return items.get(r.nextInt(items.size()));
    }
}
