package org.neurite.dsl;

import java.util.Set;
import java.util.TreeSet;
import org.neurite.dsl.parser.NNLexer;

/** The words of the language ({@code model}, {@code train}, {@code block}, ...), which no name may be. */
public final class Keywords {
    /** Every keyword token's literal, read from the grammar's vocabulary so the two cannot drift apart. */
    private static final Set<String> WORDS = words();

    private Keywords() {}

    /** Whether {@code word} is a keyword of the language, so that it cannot name a model, block or node. */
    public static boolean isKeyword(String word) {
        return WORDS.contains(word);
    }

    private static Set<String> words() {
        Set<String> words = new TreeSet<>();
        for (int type = 1; type <= NNLexer.VOCABULARY.getMaxTokenType(); type++) {
            String literal = NNLexer.VOCABULARY.getLiteralName(type); // 'model', or '->', or null
            if (literal != null && literal.length() > 2 && Character.isLetter(literal.charAt(1))) words.add(literal.substring(1, literal.length() - 1));
        }
        return Set.copyOf(words);
    }
}
