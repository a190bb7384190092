package org.neurite.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.Backend;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.Adam;
import org.neurite.engine.Optimizer;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.RmsProp;
import org.neurite.io.NamedTensor;
import org.neurite.plugin.BackendOptions;
import org.neurite.tensor.Shape;

/**
 * The engine's AdamW and RMSprop as a train section names them, one step on a dense layer worked
 * out by hand: the script's arguments reach the update, the weight decays and the bias (declared
 * without decay) does not. (The updates themselves are checked against {@code torch.optim} over
 * several steps by the test kit's PyTorch fixtures, on every backend.)
 */
class AdamWAndRmsPropTest {
    static final float[] WEIGHT = {1f, -2f};
    static final float[] BIAS = {0.5f};
    static final float[] WEIGHT_GRAD = {0.3f, -0.4f};
    static final float[] BIAS_GRAD = {0.1f};

    /** The weight and bias after one step of the script's optimiser from {@link #WEIGHT}, {@link #BIAS} with their gradients. */
    private static float[][] oneStep(String optimizer, Class<? extends Optimizer> type) {
        Script script = new ScriptLoader(Fixtures.RUNTIME.layers()).parse("t.nn",
                "model M { input x: [2]; output y = dense(1) }\ntrain M { optimizer = " + optimizer + " }\n");
        try (Backend cpu = Fixtures.RUNTIME.createBackend("cpu", new BackendOptions(1, null), List.of(), w -> { });
             ParameterStore store = new ParameterStore(script.mainModel(), cpu, 1)) {
            store.load(List.of(new NamedTensor("y.weight", Shape.of(1, 2), WEIGHT), new NamedTensor("y.bias", Shape.of(1), BIAS)));
            Optimizer o = Optimizer.create(script.training("M").orElseThrow().optimizer(), store);
            assertInstanceOf(type, o);
            cpu.upload(WEIGHT_GRAD, store.grad("y.weight"));
            cpu.upload(BIAS_GRAD, store.grad("y.bias"));
            o.step(1);
            return new float[][] {cpu.download(store.value("y.weight")), cpu.download(store.value("y.bias"))};
        }
    }

    @Test void adamwDecaysTheWeightApartFromItsGradientAndNotTheBias() {
        float[][] after = oneStep("adamw(lr=0.1, weight_decay=0.5)", Adam.class);
        // Step 1 of Adam moves every value by lr·g/(|g| + eps) = lr·sign(g) (bias correction undoes the decays);
        // AdamW first multiplies the weight by 1 − lr·wd = 0.95.
        assertEquals(1 * 0.95 - 0.1, after[0][0], 1e-6);
        assertEquals(-2 * 0.95 + 0.1, after[0][1], 1e-6);
        assertEquals(0.5 - 0.1, after[1][0], 1e-6, "a bias is not decayed");
    }

    @Test void centredRmspropWithMomentumAndWeightDecayTakesTheHandComputedStep() {
        float[][] after = oneStep("rmsprop(lr=0.1, alpha=0.9, eps=0.001, weight_decay=0.2, momentum=0.5, centered=true)", RmsProp.class);
        // g = ∇ + 0.2·θ (weight only); s = 0.1·g²; a = 0.1·g; d = √(s − a²) + eps = 0.3·|g| + 0.001; buf = g/d; θ −= 0.1·buf.
        double[] g = {WEIGHT_GRAD[0] + 0.2 * WEIGHT[0], WEIGHT_GRAD[1] + 0.2 * WEIGHT[1], BIAS_GRAD[0]};
        double[] before = {WEIGHT[0], WEIGHT[1], BIAS[0]};
        double[] actual = {after[0][0], after[0][1], after[1][0]};
        for (int i = 0; i < 3; i++) {
            double d = 0.3 * Math.abs(g[i]) + 0.001;
            assertEquals(before[i] - 0.1 * g[i] / d, actual[i], 1e-5, "value " + i);
        }
    }
}
