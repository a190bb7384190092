package org.neurite.dsl.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.neurite.diag.ModelException;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;

/**
 * What the fuzzer found, kept as plain examples. A statement-level sum ({@code output y = x + x
 * + ...}) is ambiguous at every {@code +} (a sign may start the next statement), and full-context
 * prediction spent about 2 ms a term on it: a mutated adding.nn with a 16,000-term line took
 * 20 s to be refused. Such sums are now refused from the token stream, at the sum's first term,
 * with the message the AST gives past its depth cap; shorter ones parse in SLL mode, as they
 * always meant: the sum goes on.
 */
class FuzzFindingsTest {
    private final ScriptLoader loader = new ScriptLoader(RegisteredLayers.REGISTRY);

    @Test
    void aStatementLevelSumPastTheDepthCapIsRefusedAtItsFirstTerm() {
        String script = "model M {\n    input x: [4]\n    output y = x" + " + x".repeat(16_000) + "\n}\ntrain M { loss mse }\n";
        ModelException e = assertThrows(ModelException.class, () -> loader.parse("sum.nn", script));
        assertEquals("sum.nn:3:16: error: expression is nested too deeply (more than 200 levels)", e.getMessage());
    }

    @Test
    void aStatementLevelSumUnderTheCapIsOneSum() {
        String script = "model M {\n    input x: [4]\n    h = dense(4)\n    output y = h" + " + h".repeat(150) + "\n}\n";
        Script s = loader.parse("sum.nn", script);
        // The dense layer and one add of all 151 terms, which is the output: nothing split off as a statement.
        var graph = s.mainModel().graph();
        assertEquals(2, graph.nodes().size());
        assertEquals("add", graph.nodes().get(1).layer());
        assertEquals(151, graph.nodes().get(1).inputs().size());
        assertEquals(graph.nodes().get(1).name(), graph.outputs().get(0));
    }
}
