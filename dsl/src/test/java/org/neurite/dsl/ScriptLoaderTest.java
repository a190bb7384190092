package org.neurite.dsl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.diag.ModelException;
import org.neurite.graph.Node;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.LayerArgs;
import org.neurite.tensor.Shape;
import org.neurite.train.ScheduleSpec;
import org.neurite.train.TrainSpec;
import org.neurite.train.ValidationSpec;

/** What a well-formed script turns into: graphs, names, shapes, arguments and train settings. */
class ScriptLoaderTest {
    static final String LENET = """
            # LeNet-5 (LeCun et al. 1998), ReLU + max-pool variant
            model LeNet5(classes = 10) {
                input image: [1, 28, 28]
                c1 = conv(6, kernel=5, pad=2) -> relu -> maxpool(2)
                c3 = conv(16, kernel=5) -> relu -> maxpool(2)
                f5 = flatten -> dense(120) -> relu
                f6 = dense(84) -> relu
                output logits = dense(classes)
            }
            train LeNet5 {
                data = fashion_mnist; loss = softmax_cross_entropy
                optimizer = sgd(lr=0.05, momentum=0.9); batch = 64; epochs = 5
            }
            """;

    private final ScriptLoader loader = new ScriptLoader(PluginLayers.REGISTRY);

    private TypedGraph model(String source) {
        return loader.parse("t.nn", source).mainModel();
    }

    /** Node name → output shape, in graph order. */
    private static Map<String, String> shapes(TypedGraph g) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Node n : g.graph().nodes()) out.put(n.name(), g.shape(n.name()).toString());
        return out;
    }

    private static Map<String, String> params(TypedGraph g) {
        Map<String, String> out = new LinkedHashMap<>();
        for (ParamInfo p : g.params()) out.put(p.fullName(), p.decl().shape().toString());
        return out;
    }

    @Test
    void lenet5HasTheNamesShapesAndParameterCountOfThePaper() {
        Script script = loader.parse("lenet.nn", LENET);
        TypedGraph g = script.mainModel();
        assertEquals("LeNet5", g.graph().name());
        assertEquals(61_706, g.parameterCount());
        assertEquals(List.of("logits"), g.graph().outputs());
        assertEquals(Shape.of(10), g.outputShape());
        Map<String, String> expectedShapes = new LinkedHashMap<>();
        expectedShapes.put("c1", "[6, 28, 28]");
        expectedShapes.put("c1.relu", "[6, 28, 28]");
        expectedShapes.put("c1.maxpool", "[6, 14, 14]");
        expectedShapes.put("c3", "[16, 10, 10]");
        expectedShapes.put("c3.relu", "[16, 10, 10]");
        expectedShapes.put("c3.maxpool", "[16, 5, 5]");
        expectedShapes.put("f5.flatten", "[400]");
        expectedShapes.put("f5", "[120]");
        expectedShapes.put("f5.relu", "[120]");
        expectedShapes.put("f6", "[84]");
        expectedShapes.put("f6.relu", "[84]");
        expectedShapes.put("logits", "[10]");
        assertEquals(expectedShapes, shapes(g));
        Map<String, String> expectedParams = new LinkedHashMap<>();
        expectedParams.put("c1.weight", "[6, 1, 5, 5]");
        expectedParams.put("c1.bias", "[6]");
        expectedParams.put("c3.weight", "[16, 6, 5, 5]");
        expectedParams.put("c3.bias", "[16]");
        expectedParams.put("f5.weight", "[120, 400]");
        expectedParams.put("f5.bias", "[120]");
        expectedParams.put("f6.weight", "[84, 120]");
        expectedParams.put("f6.bias", "[84]");
        expectedParams.put("logits.weight", "[10, 84]");
        expectedParams.put("logits.bias", "[10]");
        assertEquals(expectedParams, params(g));
        // Each statement reads the previous statement's value, which is its chain's last node.
        assertEquals(List.of("image"), g.graph().node("c1").inputs());
        assertEquals(List.of("c1.maxpool"), g.graph().node("c3").inputs());
        assertEquals(List.of("f6.relu"), g.graph().node("logits").inputs());
    }

    @Test
    void lenet5TrainSectionBindsTheOptimizerAndKeepsDefaultsForUnwrittenSettings() {
        Script script = loader.parse("lenet.nn", LENET);
        TrainSpec train = script.training("LeNet5").orElseThrow();
        assertEquals("fashion_mnist", train.data());
        assertEquals("softmax_cross_entropy", train.loss());
        assertEquals("sgd", train.optimizer().name());
        assertEquals(0.05, train.optimizer().args().getDouble("lr"));
        assertEquals(0.9, train.optimizer().args().getDouble("momentum"));
        assertEquals(0.0, train.optimizer().args().getDouble("weight_decay"));
        assertFalse(train.optimizer().args().getBool("nesterov"));
        assertEquals(64, train.batch());
        assertEquals(5, train.epochs());
        assertEquals(TrainSpec.defaults("LeNet5").seed(), train.seed());
        assertEquals(10, train.span().line());
        assertEquals(List.of(train), script.trainings());
    }

    @Test
    void conv1ArgumentsAreBoundWithSchemaDefaults() {
        LayerArgs c1 = model(LENET).graph().node("c1").args();
        assertEquals(6, c1.getInt("channels"));
        assertArrayEquals(new int[] {5, 5}, c1.getPair("kernel"));
        assertArrayEquals(new int[] {2, 2}, c1.getPair("pad"));
        assertArrayEquals(new int[] {1, 1}, c1.getPair("stride"));
        assertEquals(1, c1.getInt("groups"));
        assertTrue(c1.getBool("bias"));
    }

    @Test
    void positionalAndNamedArgumentsMeanTheSame() {
        TypedGraph positional = model("""
                model M { input x: [3, 16, 16]; output y = conv(8, [3, 5], 2, 1) }""");
        TypedGraph named = model("""
                model M { input x: [3, 16, 16]; output y = conv(pad=1, stride=2, channels=8, kernel=[3, 5]) }""");
        LayerArgs a = positional.graph().node("y").args();
        LayerArgs b = named.graph().node("y").args();
        for (LayerArgs args : List.of(a, b)) {
            assertEquals(8, args.getInt("channels"));
            assertArrayEquals(new int[] {3, 5}, args.getPair("kernel"));
            assertArrayEquals(new int[] {2, 2}, args.getPair("stride"));
            assertArrayEquals(new int[] {1, 1}, args.getPair("pad"));
        }
        // Bound in schema order whatever order they were written in.
        assertEquals(a, b);
        // (The prefix only: optional parameters a plugin adds later follow these.)
        assertTrue(b.toString().startsWith("channels=8, kernel=[3, 5], stride=2, pad=1, dilation=1, groups=1, bias=true"),
                b.toString());
        // (16 + 2 - 3) / 2 + 1 = 8 rows, (16 + 2 - 5) / 2 + 1 = 7 columns.
        assertEquals(Shape.of(8, 8, 7), positional.outputShape());
        assertEquals(Shape.of(8, 8, 7), named.outputShape());
    }

    @Test
    void modelParametersAndArithmeticFeedArguments() {
        TypedGraph g = model("""
                model M(width = 16, classes = width / 4 + 1) {
                    input x: [width * 2]
                    h = dense(width * (3 - 1)) -> dropout(p = 1 / 4)
                    output y = dense(classes)
                }""");
        assertEquals(Shape.of(32), g.shape("x"));
        assertEquals(32, g.graph().node("h").args().getInt("units"));
        assertEquals(0.25, g.graph().node("h.dropout").args().getDouble("p"));
        assertEquals(Shape.of(5), g.outputShape());
        // 32*32 + 32 for h, 5*32 + 5 for y.
        assertEquals(32 * 32 + 32 + 5 * 32 + 5, g.parameterCount());
    }

    @Test
    void nodesAreNamedByTheStatementAndItsParametricLayers() {
        TypedGraph g = model("""
                model M {
                    input x: [1, 8, 8]
                    a = conv(4, kernel=3) -> relu -> conv(4, kernel=3) -> relu   # two parametric layers
                    r = relu                                                 # none: the last node is 'r'
                    flatten -> dense(10) -> relu                             # unnamed: named after layers
                    dense(10) -> relu
                    output y = dense(3)
                }""");
        assertEquals(List.of("a.0", "a.relu", "a.1", "a.relu2", "r", "flatten", "dense", "relu", "dense2", "relu2", "y"),
                g.graph().nodes().stream().map(Node::name).toList());
        assertEquals(List.of("a.0.weight", "a.0.bias", "a.1.weight", "a.1.bias", "dense.weight", "dense.bias",
                        "dense2.weight", "dense2.bias", "y.weight", "y.bias"),
                g.params().stream().map(ParamInfo::fullName).toList());
        assertEquals(List.of("a.relu2"), g.graph().node("r").inputs());
    }

    @Test
    void automaticNamesAvoidNamesTheScriptUsesLater() {
        TypedGraph g = model("""
                model M {
                    input x: [4]
                    dense(4)
                    dense = relu
                    output y = dense -> dense(2)
                }""");
        assertEquals(List.of("dense2", "dense", "y"), g.graph().nodes().stream().map(Node::name).toList());
        assertEquals(List.of("dense"), g.graph().node("y").inputs());
    }

    @Test
    void aValueNameStartsAChainOrIsTheFirstArgumentOfACall() {
        TypedGraph g = model("""
                model M {
                    input x: [2, 8, 8]
                    c = conv(3, kernel=3) -> maxpool(2)
                    a = c -> relu
                    b = relu(c)
                    d = x -> flatten
                    output y = dense(d, 5)
                }""");
        assertEquals(List.of("c.maxpool"), g.graph().node("a").inputs());
        assertEquals(List.of("c.maxpool"), g.graph().node("b").inputs());
        assertEquals(List.of("x"), g.graph().node("d").inputs());
        assertEquals(List.of("d"), g.graph().node("y").inputs());
        assertEquals(5, g.graph().node("y").args().getInt("units"));
        assertEquals(Shape.of(5), g.outputShape());
        assertEquals(Shape.of(3, 3, 3), g.shape("a"));
    }

    @Test
    void formattingIsFreeSemicolonsAreOptionalAndCommentsIgnored() {
        TypedGraph compact = model("model M(n=3){input x:[5];h=dense(n)->relu;output y=dense(2)}");
        TypedGraph spread = model("""
                model M(
                    n = 3,   # trailing comma allowed
                ) {
                    input x:
                        [5, ]
                    h = dense(n)
                        -> relu
                    output y =
                        dense(2)
                }""");
        assertEquals(shapes(compact), shapes(spread));
        assertEquals(params(compact), params(spread));
        assertEquals(3 * 5 + 3 + 2 * 3 + 2, compact.parameterCount());
    }

    @Test
    void multipleModelsPerFileWithTheTrainedOneAsMain() {
        Script script = loader.parse("t.nn", """
                model Small { input x: [4]; output y = dense(2) }
                model Big { input x: [4]; h = dense(8); output y = dense(2) }
                train Small { batch = 2 * 16; epochs = 1; seed = -7; data = "data/my set"; optimizer = adam }
                """);
        assertEquals(List.of("Small", "Big"), script.models().stream().map(m -> m.graph().name()).toList());
        assertSame(script.model("Small"), script.mainModel());
        assertEquals(4 * 8 + 8 + 8 * 2 + 2, script.model("Big").parameterCount());
        TrainSpec t = script.training("Small").orElseThrow();
        assertEquals(32, t.batch());
        assertEquals(-7, t.seed());
        assertEquals("data/my set", t.data());
        assertEquals("adam", t.optimizer().name());
        assertEquals(0.001, t.optimizer().args().getDouble("lr"));
        assertTrue(script.training("Big").isEmpty());
        ModelException e = assertThrows(ModelException.class, () -> script.model("Huge"));
        assertEquals("t.nn:1:1: error: no model 'Huge' in t.nn (models: Small, Big)", e.getMessage());
    }

    @Test
    void scheduleIsConstantUnlessWrittenAndBindsItsArgumentsWithPyTorchDefaults() {
        String model = "model M { input x: [4]; output y = dense(2) }\n";
        TrainSpec none = loader.parse("t.nn", model + "train M { optimizer = sgd(lr=0.1) }").training("M").orElseThrow();
        assertSame(ScheduleSpec.CONSTANT, none.schedule());
        assertTrue(none.schedule().isConstant());

        TrainSpec step = loader.parse("t.nn", model + "train M {\n    schedule = step(every=3)\n    epochs = 9\n}")
                .training("M").orElseThrow();
        assertEquals("step", step.schedule().name());
        assertEquals(3, step.schedule().args().getInt("every"));
        assertEquals(0.1, step.schedule().args().getDouble("gamma"), "StepLR's default gamma");
        assertEquals("step(every=3, gamma=0.1)", step.schedule().toString());
        assertEquals(3, step.schedule().span().line());
        assertEquals(16, step.schedule().span().column());
        assertEquals(0.01f, step.learningRate(3), 0f);
        assertEquals(0.001f, step.learningRate(4), 1e-10f);

        TrainSpec positional = loader.parse("t.nn", model + "train M { schedule = step(2, 0.5) }").training("M").orElseThrow();
        assertEquals("step(every=2, gamma=0.5)", positional.schedule().toString());

        TrainSpec exponential = loader.parse("t.nn", model + "train M { schedule = exponential(gamma=0.9) }").training("M").orElseThrow();
        assertEquals("exponential(gamma=0.9)", exponential.schedule().toString());

        TrainSpec cosine = loader.parse("t.nn", model + "train M { schedule = cosine; optimizer = adam(lr=0.002); epochs = 4 }")
                .training("M").orElseThrow();
        assertEquals("cosine(min_lr=0)", cosine.schedule().toString());
        assertEquals(0.002f, cosine.learningRate(1), 0f);
        assertEquals(0.001f, cosine.learningRate(3), 1e-10f, "halfway through four epochs");

        TrainSpec withMin = loader.parse("t.nn", model + "train M { optimizer = sgd(lr=0.1); schedule = cosine(min_lr=1e-3) }")
                .training("M").orElseThrow();
        assertEquals(1e-3, withMin.schedule().args().getDouble("min_lr"));

        TrainSpec constant = loader.parse("t.nn", model + "train M { schedule = constant }").training("M").orElseThrow();
        assertTrue(constant.schedule().isConstant());
    }

    @Test
    void aWarmUpClimbsToTheOptimizersRateBeforeAnySchedule() {
        String model = "model M { input x: [4]; output y = dense(2) }\n";
        TrainSpec warm = loader.parse("t.nn", model + "train M { optimizer = sgd(lr=0.3); schedule = cosine(warmup=2); epochs = 6 }")
                .training("M").orElseThrow();
        assertEquals("cosine(min_lr=0, warmup=2)", warm.schedule().toString());
        assertEquals(0.1f, warm.learningRate(1), 1e-9f, "lr/3");
        assertEquals(0.2f, warm.learningRate(2), 1e-9f, "2 lr/3");
        assertEquals(0.3f, warm.learningRate(3), 0f, "the cosine's first epoch");
        assertEquals(0.15f, warm.learningRate(5), 1e-8f, "halfway through the cosine's four epochs");
        TrainSpec constant = loader.parse("t.nn", model + "train M { schedule = constant(warmup=1) }").training("M").orElseThrow();
        assertFalse(constant.schedule().isConstant(), "a warm-up changes the rate");
        assertEquals("constant(warmup=1)", constant.schedule().toString());
        assertEquals(0.005f, constant.learningRate(1), 1e-10f);
        assertEquals(0.01f, constant.learningRate(2), 0f);
    }

    @Test
    void validationEarlyStoppingAndKeepBindWithKerasDefaults() {
        String model = "model M { input x: [4]; output y = dense(2) }\n";
        TrainSpec none = loader.parse("t.nn", model + "train M { epochs = 3 }").training("M").orElseThrow();
        assertEquals(ValidationSpec.NONE, none.validation());
        assertFalse(none.validation().enabled());

        TrainSpec all = loader.parse("t.nn", model + """
                train M {
                    validation = 0.2
                    early_stopping = patience(3, min_delta=0.01)
                    keep = best(metric="val_accuracy")
                    optimizer = adamw
                }
                """).training("M").orElseThrow();
        assertEquals(new ValidationSpec(0.2, new ValidationSpec.Patience(3, "val_loss", 0.01), "val_accuracy"), all.validation());
        assertEquals(0.01, all.optimizer().args().getDouble("weight_decay"), "AdamW's default decay, unlike Adam's 0");

        TrainSpec last = loader.parse("t.nn", model + "train M { validation = 0.1; keep = last; optimizer = rmsprop(momentum=0.9) }")
                .training("M").orElseThrow();
        assertNull(last.validation().keepBest());
        assertNull(last.validation().earlyStopping());
        assertEquals(0.99, last.optimizer().args().getDouble("alpha"), "RMSprop's default alpha");
        assertFalse(last.optimizer().args().getBool("centered"));
    }

    @Test
    void withoutATrainSectionTheLastModelIsMain() {
        Script script = loader.parse("t.nn", """
                model A { input x: [4]; output y = dense(2) }
                model B { input x: [4]; output y = dense(3) }
                """);
        assertEquals("B", script.mainModel().graph().name());
        assertTrue(script.trainings().isEmpty());
    }

    @Test
    void outputsMayAliasAValueAndAModelMayHaveSeveral() {
        TypedGraph g = model("""
                model M {
                    input x: [4]
                    h = dense(3)
                    output logits = h
                    output probs = softmax
                }""");
        assertEquals(List.of("h", "probs"), g.graph().outputs());
        assertEquals(List.of("h"), g.graph().node("probs").inputs());
    }

    @Test
    void spansPointAtTheSourceOfEachNode() {
        TypedGraph g = model(LENET);
        var span = g.graph().node("c3.maxpool").span();
        assertEquals(5, span.line());
        assertEquals(40, span.column());
        assertEquals(50, span.endColumn());
        assertEquals(3, g.graph().inputs().get(0).span().line());
    }

    @Test
    void loadReadsUtf8FilesWithOrWithoutByteOrderMark(@TempDir Path dir) throws IOException {
        Path plain = dir.resolve("lenet.nn");
        Files.writeString(plain, LENET.replace("ReLU", "ReLU — café"), StandardCharsets.UTF_8);
        Path bom = dir.resolve("bom.nn");
        Files.write(bom, ("\uFEFF" + LENET).getBytes(StandardCharsets.UTF_8));
        assertEquals(61_706, loader.load(plain).mainModel().parameterCount());
        Script withBom = loader.load(bom);
        assertEquals(61_706, withBom.mainModel().parameterCount());
        assertEquals(bom.toString(), withBom.file());
        assertEquals(4, withBom.mainModel().graph().node("c1").span().line());
    }
}
