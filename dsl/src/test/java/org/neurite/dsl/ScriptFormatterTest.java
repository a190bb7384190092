package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.diag.ModelException;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;

/**
 * {@code nn fmt}: a table of scripts and their canonical text, then every example and the test
 * corpus formatted twice (the second pass must change nothing) and loaded before and after (the
 * graphs must be the same).
 */
class ScriptFormatterTest {
    static final Path CORPUS = Path.of("src", "test", "resources", "corpus");

    static Stream<Arguments> cases() {
        return Stream.of(
            row("one line becomes one statement per line",
                    "model M(n=3){input x:[5];h=dense(n)->relu;output y=dense(2)}", """
                    model M(n = 3) {
                        input x: [5]
                        h = dense(n) -> relu
                        output y = dense(2)
                    }
                    """),
            row("spacing, trailing commas and empty parameter lists",
                    "model  M ( ) {\n  input x :[ 1,28,28, ]\n  c1=conv( 6,kernel = 5, ) ->relu\n output y=flatten\n}\n", """
                    model M {
                        input x: [1, 28, 28]
                        c1 = conv(6, kernel=5) -> relu
                        output y = flatten
                    }
                    """),
            row("brackets only where precedence needs them",
                    """
                    model M(a = (1 + 2) * 3, b = (1 * 2) + 3, c = -(-1), d = (2 - 1) - 1, e = 2 - (1 - 1)) {
                        input x: [4]
                        s = (x -> dense(4)) + x
                        t = (s + x) -> relu
                        u = x -> (dense(4) -> relu) * 2 -> (if a > 1 then relu else tanh)
                        output y = dense(if not (a == 9 or b < 2) and true then 1 else 2)
                    }
                    """, """
                    model M(a = (1 + 2) * 3, b = 1 * 2 + 3, c = -(-1), d = 2 - 1 - 1, e = 2 - (1 - 1)) {
                        input x: [4]
                        s = (x -> dense(4)) + x
                        t = (s + x) -> relu
                        u = x -> (dense(4) -> relu) * 2 -> (if a > 1 then relu else tanh)
                        output y = dense(if not (a == 9 or b < 2) and true then 1 else 2)
                    }
                    """),
            row("literals keep their spelling; strings their escapes",
                    "model M{input x:[4];output y=dense(2,init=\"a\\\"b\\\\c\\td\")->dropout(p=1E-3)->dropout(p=.5)}", """
                    model M {
                        input x: [4]
                        output y = dense(2, init="a\\"b\\\\c\\td") -> dropout(p=1E-3) -> dropout(p=.5)
                    }
                    """),
            row("blocks, uses and train sections, one blank line between sections",
                    """
                    use "a.nn"
                    use "b.nn"
                    block b(c: int, s = 1)(x, y) { return x + y }
                    model M { input x: [4]; output y = b(x, x, 2) }
                    train M { batch = 8; optimizer = adam(lr=0.01) }
                    """, """
                    use "a.nn"
                    use "b.nn"

                    block b(c: int, s = 1)(x, y) {
                        return x + y
                    }

                    model M {
                        input x: [4]
                        output y = b(x, x, 2)
                    }

                    train M {
                        batch = 8
                        optimizer = adam(lr=0.01)
                    }
                    """),
            row("comments stay with the statement after them or at the end of theirs, aligned",
                    """
                    # about the model

                    # just above it
                    model M {   # the header
                        input x: [4]     # input
                        h = dense(8) # hidden


                        # before the output
                        output y = dense(2)
                        # last words
                    }
                    # the end
                    """, """
                    # about the model

                    # just above it
                    model M {         # the header
                        input x: [4]  # input
                        h = dense(8)  # hidden

                        # before the output
                        output y = dense(2)
                        # last words
                    }
                    # the end
                    """),
            row("a comment inside a statement moves above it, in order",
                    """
                    model M(
                        width = 8,   # first
                    ) {
                        input x: [4]
                        h = dense(width)  # second
                            -> relu       # third
                    }
                    """, """
                    # first
                    model M(width = 8) {
                        input x: [4]
                        # second
                        h = dense(width) -> relu  # third
                    }
                    """),
            row("an unnamed statement that starts with a bracket or a sign keeps the ';' before it",
                    "model M { (x -> relu) + x; a = relu; (x -> tanh) + a; a; -1; [2] -> relu }", """
                    model M {
                        (x -> relu) + x
                        a = relu
                        ;(x -> tanh) + a
                        a
                        ;-1
                        ;[2] -> relu
                    }
                    """),
            row("a byte-order mark, CRLF line ends and tabs", "\uFEFF# crlf\r\nmodel M {\r\n\tinput x: [4]\t# tab\r\n}\r\n",
                    "# crlf\nmodel M {\n    input x: [4]  # tab\n}\n"),
            row("carriage returns alone end lines too", "# top\rmodel M {\r    input x: [4] # a\r    # own line\r}\r",
                    "# top\nmodel M {\n    input x: [4]  # a\n    # own line\n}\n"),
            row("a long chain breaks before an arrow",
                    "model M { input x: [4]; output classes = x -> dense(1600) -> relu -> dense(1600) -> relu -> dense(1600) -> relu "
                    + "-> dense(1600) -> relu -> dense(4) }", """
                    model M {
                        input x: [4]
                        output classes = x -> dense(1600) -> relu -> dense(1600) -> relu -> dense(1600) -> relu
                            -> dense(1600) -> relu -> dense(4)
                    }
                    """));
    }

    private static Arguments row(String name, String source, String expected) {
        return Arguments.of(name, source, expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void printsTheCanonicalForm(String name, String source, String expected) {
        String canonical = ScriptFormatter.format("t.nn", source);
        assertEquals(expected, canonical);
        assertEquals(canonical, ScriptFormatter.format("t.nn", canonical));
    }

    @Test
    void aScriptThatDoesNotParseIsAnErrorNotAFormat() {
        ModelException e = assertThrows(ModelException.class, () -> ScriptFormatter.format("t.nn", "model M { input x: [4] ) }"));
        assertEquals("t.nn:1:24: error: mismatched input ')'. Expecting: <expression>, 'input', 'output', 'return', '}'",
                e.getMessage());
    }

    @Test
    void formattingIsSyntaxOnlySoABrokenModelStillFormats() {
        assertEquals("model M {\n    output y = nosuchlayer(3)\n}\n",
                ScriptFormatter.format("t.nn", "model M{output y=nosuchlayer(3)}"));
    }

    /** Every example and corpus script: formats, is stable, and loads to the same graphs. */
    @Test
    void everyExampleAndCorpusScriptFormatsStablyToTheSameGraphs() throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path folder : List.of(ZooTest.EXAMPLES, ZooTest.EXAMPLES.resolve("blocks"), CORPUS)) {
            try (Stream<Path> list = Files.list(folder)) {
                list.filter(p -> p.toString().endsWith(".nn")).sorted().forEach(files::add);
            }
        }
        assertTrue(files.size() >= 15, files.toString());
        ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);
        for (Path file : files) {
            String source = Files.readString(file);
            String canonical = ScriptFormatter.format(file);
            assertEquals(canonical, ScriptFormatter.format(file.toString(), canonical), file.toString());
            assertEquals(comments(source), comments(canonical), file.toString());
            boolean library = source.lines().noneMatch(l -> l.startsWith("model "));
            if (library) continue;
            Script before = loader.parse(file.toString(), source);
            Script after = loader.parse(file.toString(), canonical);
            assertEquals(describe(before), describe(after), file.toString());
        }
    }

    /** The examples written for the language are kept in canonical form. */
    @Test
    void theZooIsInCanonicalForm() throws IOException {
        for (String name : List.of("lenet5.nn", "alexnet.nn", "vgg16.nn", "googlenet.nn", "resnet18.nn", "resnet_small.nn",
                "inception_small.nn", "blocks/resnet.nn", "blocks/inception.nn")) {
            Path file = ZooTest.EXAMPLES.resolve(name);
            assertEquals(Files.readString(file), ScriptFormatter.format(file), name);
        }
    }

    private static List<String> comments(String text) {
        return text.lines().filter(l -> l.contains("#")).map(l -> l.substring(l.indexOf('#')).strip()).toList();
    }

    /** Everything a script means, spans left out. */
    private static String describe(Script script) {
        StringBuilder sb = new StringBuilder();
        for (TypedGraph g : script.models()) {
            sb.append(g.graph().name()).append(' ').append(g.graph().inputs().stream().map(i -> i.name() + i.shape()).toList())
                    .append(" -> ").append(g.graph().outputs()).append('\n');
            for (Node n : g.graph().nodes()) {
                sb.append("  ").append(n.name()).append(' ').append(n.layer()).append('(').append(n.args()).append(") ")
                        .append(n.inputs()).append(' ').append(g.shape(n.name())).append('\n');
            }
        }
        script.trainings().forEach(t -> sb.append(t.model()).append(' ').append(t.data()).append(' ').append(t.optimizer().name())
                .append(t.optimizer().args()).append(' ').append(t.schedule()).append(' ').append(t.batch()).append(' ').append(t.epochs()).append('\n'));
        return sb.toString();
    }
}
