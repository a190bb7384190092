package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@code nn graph}'s DOT text: labels, clusters for block calls, edges, outputs. */
class GraphDotTest {
    private final ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);

    @Test
    void blockCallsBecomeNestedClustersAndOutputsGetADoubleBorder() {
        Script s = loader.parse("t.nn", """
                block unit(c)(x) {
                    return conv(c, kernel=1) -> relu
                }
                block pair(c)(x) {
                    a = unit(c)
                    return a + x
                }
                model Net {
                    input image: [2, 4, 4]
                    p = pair(2)
                    output y = flatten -> dense(3)
                }""");
        assertEquals("""
                digraph "Net" {
                  rankdir=TB;
                  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];
                  edge [color="#555555"];
                  "image" [label="image\\ninput [2, 4, 4]", shape=ellipse];
                  subgraph "cluster_p" {
                    label="p: pair";
                    style="rounded,dashed";
                    "p" [label="p\\nadd [2, 4, 4]"];
                    subgraph "cluster_p.a" {
                      label="p.a: unit";
                      style="rounded,dashed";
                      "p.a" [label="p.a\\nconv [2, 4, 4]"];
                      "p.a.relu" [label="p.a.relu\\nrelu [2, 4, 4]"];
                    }
                  }
                  "y.flatten" [label="y.flatten\\nflatten [32]"];
                  "y" [label="y\\ndense [3]", peripheries=2];
                  "image" -> "p.a";
                  "p.a" -> "p.a.relu";
                  "p.a.relu" -> "p";
                  "image" -> "p";
                  "p" -> "y.flatten";
                  "y.flatten" -> "y";
                }
                """, GraphDot.render(s.mainModel(), s.blockCalls("Net")));
    }

    @Test
    void quotesAndBackslashesAreEscaped() {
        assertEquals("\"a\\\"b\\\\c\\nd\"", GraphDot.quote("a\"b\\c\nd"));
    }
}
