package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;

/** Models as DAGs: several inputs and outputs, sums and concatenations, and unused-value warnings. */
class GraphsTest {
    private final ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);

    private static List<String> nodeNames(TypedGraph g) {
        return g.graph().nodes().stream().map(Node::name).toList();
    }

    @Test
    void twoInputsMeetThroughASumAndAConcatenation() {
        Script s = loader.parse("t.nn", """
                model Two {
                    input a: [4]
                    input b: [4]
                    ha = a -> dense(8)
                    hb = dense(b, 8)
                    sum = ha + hb
                    both = concat(ha, hb, sum, axis=0)
                    output total = sum
                    output joined = both -> dense(2)
                }""");
        TypedGraph g = s.mainModel();
        assertEquals(List.of("ha", "hb", "sum", "both", "joined"), nodeNames(g));
        assertEquals("add", g.graph().node("sum").layer());
        assertEquals(List.of("ha", "hb"), g.graph().node("sum").inputs());
        assertEquals(List.of("ha", "hb", "sum"), g.graph().node("both").inputs());
        assertEquals(Shape.of(24), g.shape("both"));
        assertEquals(List.of("sum", "joined"), g.graph().outputs());
        assertEquals(List.of("a", "b"), g.graph().inputs().stream().map(in -> in.name()).toList());
        assertTrue(s.warnings().isEmpty(), loader.render(s.warnings()));
    }

    @Test
    void plusAndAddAreTheSameLayerAndLongSumsAreOneNode() {
        TypedGraph g = loader.parse("t.nn", """
                model M {
                    input x: [3]
                    a = dense(3)
                    b = x -> dense(3)
                    c = x -> dense(3)
                    s1 = a + b + c
                    s2 = add(a, b, c)
                    output y = dense(concat(s1, s2), 3) + s1
                }""").mainModel();
        assertEquals(List.of("a", "b", "c"), g.graph().node("s1").inputs());
        assertEquals(g.graph().node("s1").inputs(), g.graph().node("s2").inputs());
        assertEquals(g.graph().node("s1").layer(), g.graph().node("s2").layer());
        assertEquals(List.of("y.concat"), g.graph().node("y").inputs());
        assertEquals(Shape.of(6), g.shape("y.concat"));
        assertEquals(List.of("y", "s1"), g.graph().node("y.add").inputs());
        assertEquals(Shape.of(3), g.outputShape());
    }

    @Test
    void sumsBindLooserThanArrowsSoAResidualReadsNaturally() {
        TypedGraph g = loader.parse("t.nn", """
                model M {
                    input x: [1, 6, 6]
                    y = x -> conv(1, kernel=3, pad=1) -> relu + x
                    output z = flatten
                }""").mainModel();
        // (x -> conv -> relu) + x, not x -> conv -> (relu + x).
        assertEquals(List.of("y", "y.relu", "y.add", "z"), nodeNames(g));
        assertEquals(List.of("y.relu", "x"), g.graph().node("y.add").inputs());
    }

    /** A statement without an input reads the last input, so mask and skip are read only if named. */
    @Test
    void unusedValuesAndInputsAreWarningsThatDoNotStopLoading() {
        Script s = loader.parse("t.nn", """
                block twice(c)(x, skip) {
                    h = x -> dense(c)
                    spare = dense(c)
                    return relu(h)
                }
                model M {
                    input x: [4]
                    input mask: [4]
                    a = x -> dense(4)
                    b = x -> dense(4)
                    twice(b, x, 4)
                    output y = dense(b, 2)
                }""");
        assertEquals(List.of("a", "b", "twice.h", "twice.spare", "twice", "y"), nodeNames(s.mainModel()));
        assertEquals("""
                t.nn:1:19: warning: input 'skip' of block 'twice' is never used
                    block twice(c)(x, skip) {
                                      ^~~~
                t.nn:3:5: warning: value 'spare' is never used
                        spare = dense(c)
                        ^~~~~
                t.nn:8:11: warning: input 'mask' is never used
                        input mask: [4]
                              ^~~~
                t.nn:9:5: warning: value 'a' is never used
                        a = x -> dense(4)
                        ^
                t.nn:11:5: warning: the result of this statement is never used
                        twice(b, x, 4)
                        ^~~~~~~~~~~~~~
                """, loader.render(s.warnings()));
    }

    @Test
    void aBlockValueUsedByAnyOfItsCallsIsNotReported() {
        Script s = loader.parse("t.nn", """
                block pick(first: bool)(x) {
                    a = dense(2)
                    b = x -> dense(2)
                    return if first then a else b
                }
                model M {
                    input x: [4]
                    p = pick(true)
                    q = x -> pick(false)
                    output y = p + q
                }""");
        assertTrue(s.warnings().isEmpty(), loader.render(s.warnings()));
    }
}
