package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.neurite.backend.Backend;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Slice;
import org.neurite.backend.Strided;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.CompiledModel;
import org.neurite.engine.ParameterStore;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;

/**
 * A compiled model hands the backend the same descriptor objects ({@link Slice}, {@link Matrix},
 * {@link Gemm}, {@link Strided}) at every step: the layers make them when they compile, or once per
 * tensor. Made per call they escape into the backend, which is called through an interface, and
 * became garbage at every training step (rowlstm: 17 KB a step). A recording proxy of the CPU
 * backend lists the descriptors of every call of identical forward and backward passes; after the
 * first, each pass must pass the very instances of the one before.
 */
class StepDescriptorsTest {

    /** Every backend call's descriptor arguments, in call order, while {@link #recording}. */
    private static final class Recorder implements InvocationHandler {
        final Backend real;
        List<Object> recording;

        Recorder(Backend real) { this.real = real; }

        @Override public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            if (recording != null && args != null) {
                for (Object a : args) {
                    if (a instanceof Slice || a instanceof Matrix || a instanceof Gemm || a instanceof Strided) {
                        recording.add(method.getName());
                        recording.add(a);
                    }
                }
            }
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    private static final String BIDIRECTIONAL = """
            model Seq {
                input x: [9, 5]
                r = gru(6, layers=2, bidirectional=true, mask_zero=true)
                l = lstm(4, bidirectional=true) -> rnn(3, sequences=false)
                output y = dense(4)
            }
            """;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"lenet5.nn", "fashion_cnn.nn", "rowlstm.nn", "resnet_small.nn", "bidirectional"})
    void theSecondStepPassesTheFirstStepsDescriptors(String example) throws Exception {
        TypedGraph graph = example.equals("bidirectional")
                ? new ScriptLoader(Fixtures.RUNTIME.layers()).parse("seq.nn", BIDIRECTIONAL).mainModel()
                : Fixtures.example(example).mainModel();
        try (Backend real = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(2, null), List.of(), w -> {})) {
            Recorder recorder = new Recorder(real);
            Backend backend = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, recorder);
            int batch = 3;
            try (ParameterStore store = new ParameterStore(graph, backend, 1);
                 CompiledModel model = CompiledModel.compile(graph, backend, batch, store)) {
                float[] x = new float[model.input(0).size()];
                Random rnd = new Random(2);
                // Whole rows of zeros at the end of each sequence give the masked layers padding to skip.
                for (int i = 0; i < x.length; i++) x[i] = i % 45 >= 35 ? 0f : rnd.nextFloat();
                backend.upload(x, model.input(0));
                List<List<Object>> passes = new ArrayList<>();
                // The first pass builds what is made on first use (and the masks from the input's lengths); the next two compare.
                for (int pass = 0; pass < 3; pass++) {
                    recorder.recording = new ArrayList<>();
                    model.forward(true, 7);
                    backend.fill(model.gradOutput(), 0.1f);
                    model.backward();
                    passes.add(recorder.recording);
                    recorder.recording = null;
                }
                List<Object> first = passes.get(1), second = passes.get(2);
                assertTrue(first.size() > 10, "the passes call the backend with descriptors: " + first.size());
                assertEquals(first.size(), second.size(), "the same calls in both passes");
                for (int i = 0; i < first.size(); i += 2) {
                    assertEquals(first.get(i), second.get(i), "call " + i / 2);
                    assertSame(first.get(i + 1), second.get(i + 1), "call " + i / 2 + " (" + first.get(i) + ") made its "
                            + first.get(i + 1).getClass().getSimpleName() + " again");
                }
            }
        }
    }
}
