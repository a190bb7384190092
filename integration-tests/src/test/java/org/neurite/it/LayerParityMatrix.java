package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.neurite.backend.Backend;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.Node;
import org.neurite.graph.TypedGraph;
import org.neurite.io.NamedTensor;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.tensor.Shape;
import org.neurite.testkit.BackendParity;
import org.neurite.testkit.GradientCase;
import org.neurite.testkit.GradientChecker;
import org.neurite.testkit.GradientReport;
import org.neurite.testkit.LayerHarness;

/**
 * The layer parity matrix: every registered layer, in a non-trivial configuration written as the
 * one-layer script a user would write, on a candidate backend against the CPU backend with one
 * thread. A backend's test is a subclass that gives the backend, the tolerance and, optionally,
 * a gradient checker:
 * <pre>{@code
 * class MyLayerParityTest extends LayerParityMatrix {
 *     MyLayerParityTest() { super(MyBackend::open, new BackendParity.Tolerance(1e-4, 1e-4), null); }
 * }
 * }</pre>
 * For each sample:
 * <ul>
 *   <li>the engine's {@link ParameterStore} initialises the parameters to the same bits on both
 *       backends from the same seed;</li>
 *   <li>{@link BackendParity}, at batch {@value #BATCH}: forward in training mode, backward, then
 *       forward in evaluation mode; the outputs, every input and parameter gradient and every
 *       parameter after the passes (batch norm's running statistics) must agree within the
 *       subclass's tolerance;</li>
 *   <li>with a {@link GradientChecker}, backward on the candidate against central differences.</li>
 * </ul>
 * A registered layer without a sample fails {@link #everyRegisteredLayerHasASample}.
 *
 * <p>Embedding reads token indices: parity feeds it random integers
 * ({@link BackendParity#withIndexInput}), and {@link #embeddingRowsAsOnTheCpuBackend} runs it again
 * with tokens chosen to repeat and to leave one row unread. The gradient checker cannot draw
 * tokens, so with a checker embedding's weight gradient is compared with central differences by
 * hand, on the same tokens.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class LayerParityMatrix {
    private static final NeuriteRuntime RUNTIME = NeuriteRuntime.discover();
    private static final int BATCH = 3;
    private static final long SEED = 17;

    /** One-layer model bodies, at least one for every registered layer; lrn twice, near both ends of alpha. */
    private static final List<String> SAMPLES = List.of(
            "input a: [3, 5, 4]\n input b: [3, 5, 4]\n output y = add(a, b)",
            "input x: [3, 7, 6]\n output y = avgpool(kernel=3, stride=2, pad=1)",
            "input x: [3, 5, 4]\n output y = batchnorm",
            "input a: [3, 5, 4]\n input b: [2, 5, 4]\n output y = concat(a, b, axis=0)",
            "input x: [4, 7, 6]\n output y = conv(6, kernel=3, stride=2, pad=1, groups=2)",
            "input x: [13]\n output y = dense(7)",
            "input x: [3, 5, 4]\n output y = dropout(p=0.3)",
            "input t: [6]\n output y = embedding(num=9, dim=4)",   // TOKENS below are for this one
            "input x: [3, 5, 4]\n output y = flatten",
            "input x: [3, 5, 4]\n output y = globalavgpool",
            "input x: [6, 4]\n output y = gru(5, sequences=false)",
            "input x: [6, 4, 3]\n output y = lrn(size=3, alpha=0.01, k=2.0)",
            "input x: [6, 4, 3]\n output y = lrn(size=3, alpha=2.0, beta=0.75, k=1.0)",
            "input x: [6, 4]\n output y = lstm(5, layers=2)",
            "input x: [3, 7, 6]\n output y = maxpool(kernel=3, stride=2, pad=1, ceil=true)",
            "input x: [3, 5, 4]\n output y = relu",
            "input x: [6, 4]\n output y = rnn(5, bidirectional=true)",
            "input x: [3, 5, 4]\n output y = sigmoid",
            "input x: [12]\n output y = softmax",
            "input x: [4, 5, 6]\n output y = split(axis=2, parts=3, index=1)",
            "input x: [3, 5, 4]\n output y = tanh",
            "input x: [3, 5, 4]\n output y = zeropad(pad=[1, 2])");

    private final Supplier<Backend> candidateFactory;
    private final BackendParity.Tolerance tolerance;
    private final GradientChecker checker;
    private Backend cpu, candidate;

    /**
     * @param candidate opens the backend under test, once per test class (closed at the end); an
     *     assumption that fails there skips the whole matrix
     * @param tolerance how far the candidate may be from the CPU backend, per element
     * @param checker also checks the candidate's gradients against central differences; null to
     *     compare them with the CPU backend's only
     */
    protected LayerParityMatrix(Supplier<Backend> candidate, BackendParity.Tolerance tolerance, GradientChecker checker) {
        this.candidateFactory = candidate;
        this.tolerance = tolerance;
        this.checker = checker;
    }

    @BeforeAll public void start() {
        candidate = candidateFactory.get();
        cpu = RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), warning -> {});
    }

    @AfterAll public void stop() {
        if (candidate != null) candidate.close();
        if (cpu != null) cpu.close();
    }

    /** One sample as its script binds it: the graph, the layer type, the arguments and the per-sample input shapes. */
    private record Sample(TypedGraph graph, LayerType type, LayerArgs args, List<Shape> inputs) {
        static Sample parse(String body) {
            String source = "model One {\n " + body + "\n}\n";
            TypedGraph graph = new ScriptLoader(RUNTIME.layers()).parse("sample.nn", source).mainModel();
            assertEquals(1, graph.graph().nodes().size(), body + ": a one-layer model");
            Node node = graph.graph().nodes().get(0);
            return new Sample(graph, graph.type(node.name()), node.args(), node.inputs().stream().map(graph::shape).toList());
        }

        String layer() { return type.name(); }

        Shape[] inputArray() { return inputs.toArray(Shape[]::new); }
    }

    /** {@code lrn(size=3, alpha=0.01, k=2.0)}: the layer call of a sample, its test's name. */
    private static String call(String body) {
        return body.substring(body.indexOf("= ") + 2);
    }

    @Test public void everyRegisteredLayerHasASample() {
        Set<String> sampled = SAMPLES.stream().map(body -> Sample.parse(body).layer())
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(new TreeSet<>(RUNTIME.layers().names()), sampled);
    }

    @TestFactory
    public Stream<DynamicTest> forwardAndBackwardAsOnTheCpuBackend() {
        return SAMPLES.stream().map(body -> dynamicTest(call(body), () -> {
            Sample s = Sample.parse(body);
            sameInitialParameters(s);
            BackendParity parity = new BackendParity(SEED).withEvaluationPass();
            if (s.layer().equals("embedding")) parity = parity.withIndexInput(0, s.args().getInt("num"));
            BackendParity.Result compared =
                    parity.compare(s.type(), cpu, s.type(), candidate, s.args(), BATCH, s.inputs(), tolerance);
            assertTrue(compared.tensors().size() >= 3,
                    call(body) + ": the output in both modes and at least one gradient, got " + compared.tensors());
        }));
    }

    /** The engine's initial parameters from one seed, bit for bit on both backends. */
    private void sameInitialParameters(Sample s) {
        try (ParameterStore onCpu = new ParameterStore(s.graph(), cpu, SEED);
             ParameterStore onCandidate = new ParameterStore(s.graph(), candidate, SEED)) {
            List<NamedTensor> expected = onCpu.export(), actual = onCandidate.export();
            assertEquals(expected.size(), actual.size(), s.layer() + ": parameter count");
            for (int i = 0; i < expected.size(); i++) {
                String name = expected.get(i).name();
                assertArrayEquals(expected.get(i).data(), actual.get(i).data(), s.layer() + ": same seed, same " + name);
            }
        }
    }

    /** Tokens 0..8 for 3 samples of 6, with repeats (their gradients add up) and token 8 never read. */
    private static final float[] TOKENS = {1, 0, 1, 7, 2, 2, /* */ 5, 1, 3, 0, 6, 4, /* */ 2, 2, 2, 7, 0, 5};

    /** Embedding's sample, checked against TOKENS. */
    private static Sample embedding() {
        Sample s = Sample.parse(SAMPLES.stream().filter(body -> call(body).startsWith("embedding(")).findFirst().orElseThrow());
        assertEquals(List.of(Shape.of(6)), s.inputs(), "TOKENS are 3 samples of 6");
        assertEquals(9, s.args().getInt("num"), "TOKENS read rows 0..7 of 9");
        return s;
    }

    /**
     * Embedding with chosen tokens: the output bit for bit (forward copies rows), the weight
     * gradient (repeated tokens add up, the unread row stays zero) within the tolerance.
     */
    @Test public void embeddingRowsAsOnTheCpuBackend() {
        Sample s = embedding();
        SplittableRandom random = new SplittableRandom(SEED);
        float[] weight = uniform(9 * 4, random), dy = uniform(TOKENS.length * 4, random);
        float[][] onCpu = embeddingPasses(s, cpu, weight, dy), onCandidate = embeddingPasses(s, candidate, weight, dy);
        assertArrayEquals(onCpu[0], onCandidate[0], "output: rows of the table");
        for (int j = 0; j < onCpu[1].length; j++) {
            double allowed = tolerance.relative() * Math.abs(onCpu[1][j]) + tolerance.absolute();
            assertEquals(onCpu[1][j], onCandidate[1][j], allowed, "gradient of the weight at " + j);
        }
    }

    /** The output and dL/dweight of embedding on {@code backend}. */
    private static float[][] embeddingPasses(Sample s, Backend backend, float[] weight, float[] dy) {
        try (LayerHarness h = LayerHarness.compile(s.type(), s.args(), BATCH, backend, s.inputs(), Set.of(0))) {
            h.setInput(0, TOKENS);
            h.setParam("weight", weight);
            float[] y = h.forward();
            h.backward(dy);
            return new float[][] {y, h.gradParam("weight")};
        }
    }

    @TestFactory
    public Stream<DynamicTest> gradientsAgainstCentralDifferences() {
        assumeTrue(checker != null, "this backend's gradients are compared with the CPU backend's only");
        return SAMPLES.stream().map(body -> dynamicTest(call(body), () -> {
            Sample s = Sample.parse(body);
            if (s.layer().equals("embedding")) {
                embeddingWeightAgainstCentralDifferences();
                return;
            }
            GradientCase c = GradientCase.of(s.type(), s.args(), 2, s.inputArray());
            if (s.layer().equals("relu")) c = c.avoidingKinksAt(0);
            if (s.layer().equals("maxpool")) c = c.withDistinctInputs();
            GradientReport report = checker.check(c, candidate);
            long trainable = s.type().parameters(s.args(), s.inputs()).stream().filter(ParamDecl::trainable).count();
            assertEquals(s.inputs().size() + trainable, report.tensors().size(),
                    call(body) + ": every input and trainable parameter checked");
        }));
    }

    /**
     * The shared checker draws inputs in [-1, 1), which are not token indices, so the same
     * comparison runs here by hand: loss = sum(y * R), each weight element moved by ±step.
     */
    private void embeddingWeightAgainstCentralDifferences() {
        Sample s = embedding();
        SplittableRandom random = new SplittableRandom(SEED + 1);
        float[] weight = uniform(9 * 4, random), r = uniform(TOKENS.length * 4, random);
        try (LayerHarness h = LayerHarness.compile(s.type(), s.args(), BATCH, candidate, s.inputs(), Set.of(0))) {
            h.setInput(0, TOKENS);
            h.setParam("weight", weight);
            h.forward();
            h.backward(r);
            float[] analytic = h.gradParam("weight");
            double step = checker.step();
            for (int j = 0; j < weight.length; j++) {
                float[] moved = weight.clone();
                moved[j] = (float) (weight[j] + step);
                h.setParam("weight", moved);
                double plus = dot(h.forward(), r);
                moved[j] = (float) (weight[j] - step);
                h.setParam("weight", moved);
                double minus = dot(h.forward(), r);
                double numeric = (plus - minus) / ((double) (float) (weight[j] + step) - (float) (weight[j] - step));
                assertEquals(numeric, analytic[j], 1e-3 + 1e-3 * Math.abs(numeric), "dweight at " + j);
            }
            for (int j = 8 * 4; j < 9 * 4; j++) assertEquals(0f, analytic[j], "token 8 is never read");
        }
    }

    private static float[] uniform(int n, SplittableRandom random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) random.nextDouble(-1, 1);
        return v;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
