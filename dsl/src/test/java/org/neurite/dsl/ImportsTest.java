package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.diag.ModelException;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;

/** {@code use "file.nn"}: what becomes callable, and how broken imports are reported. */
class ImportsTest {
    private final ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);

    @TempDir Path dir;

    private Path write(String name, String text) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
        return file;
    }

    private String error(Path main) {
        ModelException e = assertThrows(ModelException.class, () -> loader.load(main));
        return loader.render(e);
    }

    @Test
    void pathsAreRelativeToTheFileThatUsesThem() throws IOException {
        write("lib/common.nn", """
                block act()(x) {
                    return relu
                }
                """);
        write("lib/layers.nn", """
                use "common.nn"
                block unit(c)(x) {
                    return dense(c) -> act
                }
                """);
        Path main = write("net.nn", """
                use "lib/layers.nn"
                model M {
                    input x: [4]
                    output y = unit(3)
                }
                """);
        TypedGraph g = loader.load(main).mainModel();
        assertEquals(List.of("y", "y.act"), g.graph().nodes().stream().map(Node::name).toList());
        assertEquals("relu", g.graph().node("y.act").layer());
        // The call site inside lib/layers.nn is named by its path from the main file's folder.
        assertEquals(dir.resolve("lib/layers.nn").toString(), g.graph().node("y.act").callSites().get(0).file());
    }

    @Test
    void onlyWhatAFileUsesDirectlyIsCallable() throws IOException {
        write("lib/common.nn", "block act()(x) {\n    return relu\n}\n");
        write("lib/layers.nn", "use \"common.nn\"\nblock unit(c)(x) {\n    return dense(c) -> act\n}\n");
        Path main = write("net.nn", """
                use "lib/layers.nn"
                model M {
                    input x: [4]
                    output y = act
                }
                """);
        assertEquals(main + ":4:16: error: unknown layer or value 'act'\n"
                + "        output y = act\n"
                + "                   ^~~\n", error(main));
    }

    @Test
    void aFileUsedTwiceOrThroughTwoPathsIsReadOnce() throws IOException {
        write("d.nn", "block shared()(x) {\n    return relu\n}\n");
        write("b.nn", "use \"d.nn\"\nblock fromB()(x) {\n    return shared\n}\n");
        write("c.nn", "use \"d.nn\"\nuse \"./d.nn\"\nblock fromC()(x) {\n    return shared\n}\n");
        Path main = write("a.nn", """
                use "b.nn"
                use "c.nn"
                model M {
                    input x: [4]
                    output y = fromB -> fromC
                }
                """);
        TypedGraph g = loader.load(main).mainModel();
        // Neither call owns parameters, so the last is named y, like a parameter-free layer.
        assertEquals(List.of("y.fromB", "y"), g.graph().nodes().stream().map(Node::name).toList());
    }

    @Test
    void modelsOfAUsedFileCanBeCalledLikeBlocks() throws IOException {
        write("encoder.nn", """
                model Encoder(width = 8) {
                    input image: [1, 4, 4]
                    output features = flatten -> dense(width) -> relu
                }
                """);
        Path main = write("net.nn", """
                use "encoder.nn"
                model Net {
                    input image: [1, 4, 4]
                    enc = Encoder(width=5)
                    output logits = dense(2)
                }
                """);
        Script s = loader.load(main);
        assertEquals(List.of("Net"), s.models().stream().map(m -> m.graph().name()).toList());
        assertEquals(List.of("enc.features.flatten", "enc.features", "enc.features.relu", "logits"),
                s.mainModel().graph().nodes().stream().map(Node::name).toList());
    }

    @Test
    void aMissingFileIsReportedAtTheUse() throws IOException {
        Path main = write("net.nn", "use \"blocks/nothere.nn\"\nmodel M { input x: [4]; output y = dense(2) }\n");
        assertEquals(main + ":1:5: error: cannot find 'blocks/nothere.nn' (looked for " + dir.resolve("blocks/nothere.nn")
                + ")\n"
                + "    use \"blocks/nothere.nn\"\n"
                + "        ^~~~~~~~~~~~~~~~~~~\n", error(main));
    }

    @Test
    void anUnreadableFileIsReportedAtTheUseWithTheReason() throws IOException {
        write("afile", "not a folder\n");
        Path main = write("net.nn", "use \"afile/blk.nn\"\nmodel M { input x: [4]; output y = dense(2) }\n");
        // the reason in words, not the exception's bare path
        assertEquals(main + ":1:5: error: cannot read 'afile/blk.nn' (" + dir.resolve("afile/blk.nn")
                + "): a part of the path is a file, not a folder\n"
                + "    use \"afile/blk.nn\"\n"
                + "        ^~~~~~~~~~~~~~\n", error(main));
    }

    @Test
    void anUnreadableFileSaysPermissionDenied() throws IOException {
        Path used = write("blk.nn", "block B { dense(2) }\n");
        Path main = write("net.nn", "use \"blk.nn\"\nmodel M { input x: [4]; output y = B }\n");
        assertTrue(used.toFile().setReadable(false, false));
        assumeFalse(Files.isReadable(used), "root reads any file");
        assertTrue(error(main).startsWith(main + ":1:5: error: cannot read 'blk.nn' (" + used + "): permission denied\n"), error(main));
    }

    @Test
    void anImportCycleIsReportedWithTheWholeChain() throws IOException {
        Path a = write("a.nn", "use \"b.nn\"\nmodel M { input x: [4]; output y = dense(2) }\n");
        Path b = write("b.nn", "use \"c.nn\"\n");
        Path c = write("c.nn", "use \"a.nn\"\n");
        assertEquals(c + ":1:5: error: import cycle: " + a + " -> " + b + " -> " + c + " -> " + a + "\n"
                + "    use \"a.nn\"\n"
                + "        ^~~~~~\n", error(a));
    }

    @Test
    void aSyntaxErrorInAUsedFileNotesTheUse() throws IOException {
        Path lib = write("lib.nn", "block broken()(x) {\n    return relu(\n}\n");
        Path main = write("net.nn", "use \"lib.nn\"\nmodel M { input x: [4]; output y = dense(2) }\n");
        assertEquals(lib + ":3:1: error: mismatched input '}'. Expecting: <expression>\n"
                + "    }\n"
                + "    ^\n"
                + main + ":1:5: note: in the file used here\n"
                + "    use \"lib.nn\"\n"
                + "        ^~~~~~~~\n", error(main));
    }

    @Test
    void aNameDefinedInTwoUsedFilesIsAnError() throws IOException {
        Path one = write("one.nn", "block unit()(x) {\n    return relu\n}\n");
        write("two.nn", "block unit()(x) {\n    return tanh\n}\n");
        Path main = write("net.nn", "use \"one.nn\"\nuse \"two.nn\"\nmodel M { input x: [4]; output y = unit }\n");
        assertEquals(main + ":2:5: error: 'unit' from " + dir.resolve("two.nn") + " is already defined\n"
                + "    use \"two.nn\"\n"
                + "        ^~~~~~~~\n"
                + one + ":1:7: note: 'unit' is first defined here\n"
                + "    block unit()(x) {\n"
                + "          ^~~~\n", error(main));
    }
}
