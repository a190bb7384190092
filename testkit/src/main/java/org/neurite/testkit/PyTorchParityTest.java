package org.neurite.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.neurite.testkit.Fixtures.assertClose;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * A backend against PyTorch: every case of every fixture file (see
 * {@code tools/fixtures/ops/make_op_fixtures.py}: conv2d, pooling, dense through GEMM, softmax and
 * cross-entropy, unary ops, affine maps, channel maxima, SGD/Adam over three steps, batch norm,
 * LRN, LSTM/GRU steps at offsets, embeddings, zero padding) is run through the backend's ops and
 * compared with PyTorch's float64 results within the subclass's tolerance (relative + absolute,
 * see {@link Fixtures#assertClose}). Each backend's tests extend it with a factory for their
 * backend (the CPU and OpenCL backends' {@code CpuPyTorchParityTest} and {@code ClPyTorchParityTest},
 * the {@link ReferenceBackend}'s in the integration tests).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class PyTorchParityTest {
    /** float32 arithmetic against float64 references: sums of up to a few hundred products. */
    public static final double TOL = 1e-4;

    private final Supplier<Backend> factory;
    private final double tol;
    private final boolean closeAfter;
    private Backend backend;

    /**
     * @param factory    makes (or returns) the backend under test, once per test class
     * @param tol        relative + absolute tolerance against the float64 references
     * @param closeAfter whether the tests close the backend at the end (false for one shared with other classes)
     */
    protected PyTorchParityTest(Supplier<Backend> factory, double tol, boolean closeAfter) {
        this.factory = factory;
        this.tol = tol;
        this.closeAfter = closeAfter;
    }

    @BeforeAll public void start() { backend = factory.get(); }

    @AfterAll public void stop() { if (closeAfter && backend != null) backend.close(); }

    @TestFactory
    public Stream<DynamicTest> conv2dForwardAndGradients() {
        Fixtures fx = Fixtures.load("conv2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Conv2dGeometry g = new Conv2dGeometry(s.get("batch").asInt(), s.get("in_channels").asInt(), s.get("height").asInt(),
                    s.get("width").asInt(), s.get("out_channels").asInt(), s.get("kernel").get(0).asInt(), s.get("kernel").get(1).asInt(),
                    s.get("stride").get(0).asInt(), s.get("stride").get(1).asInt(), s.get("padding").get(0).asInt(),
                    s.get("padding").get(1).asInt(), s.get("dilation").get(0).asInt(), s.get("dilation").get(1).asInt(),
                    s.get("groups").asInt());
            boolean bias = s.get("bias").asBoolean();
            Tensor x = fx.upload(backend, name, "x"), w = fx.upload(backend, name, "w"), dy = fx.upload(backend, name, "dy");
            Tensor b = bias ? fx.upload(backend, name, "b") : null;
            Tensor y = backend.allocate(fx.tensor(name, "y").shape());
            Tensor dx = backend.allocate(x.shape()), dw = backend.allocate(w.shape());
            Tensor db = bias ? backend.allocate(Shape.of(g.outChannels())) : null;
            assertEquals(fx.tensor(name, "y").shape(), Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth()), "output shape");

            backend.conv2dForward(g, x, w, b, y);
            backend.conv2dBackwardData(g, dy, w, dx);
            // Stale values must be overwritten, not accumulated.
            backend.fill(dw, 7f);
            if (bias) backend.fill(db, 7f);
            backend.conv2dBackwardFilter(g, x, dy, dw, db);

            assertClose(name + " y", fx.values(name, "y"), backend.download(y), tol);
            assertClose(name + " dx", fx.values(name, "dx"), backend.download(dx), tol);
            assertClose(name + " dw", fx.values(name, "dw"), backend.download(dw), tol);
            if (bias) assertClose(name + " db", fx.values(name, "db"), backend.download(db), tol);
        }));
    }

    @TestFactory
    public Stream<DynamicTest> pool2dForwardAndBackward() {
        Fixtures fx = Fixtures.load("pool2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Pool2dGeometry g = new Pool2dGeometry(s.get("batch").asInt(), s.get("channels").asInt(), s.get("height").asInt(),
                    s.get("width").asInt(), s.get("kernel").get(0).asInt(), s.get("kernel").get(1).asInt(),
                    s.get("stride").get(0).asInt(), s.get("stride").get(1).asInt(), s.get("padding").get(0).asInt(),
                    s.get("padding").get(1).asInt(), s.get("ceil_mode").asBoolean(), s.get("count_include_pad").asBoolean());
            Shape outShape = fx.tensor(name, "y").shape();
            assertEquals(outShape, Shape.of(g.batch(), g.channels(), g.outHeight(), g.outWidth()), "output shape");
            Tensor x = fx.upload(backend, name, "x"), dy = fx.upload(backend, name, "dy");
            Tensor y = backend.allocate(outShape), dx = backend.allocate(x.shape());
            backend.fill(dx, 7f);
            if (s.get("kind").asText().equals("max")) {
                Tensor argmax = backend.allocate(outShape);
                backend.maxPool2dForward(g, x, y, argmax);
                backend.maxPool2dBackward(g, dy, argmax, dx);
                assertArrayEquals(fx.values(name, "argmax"), backend.download(argmax), name + " argmax");
            } else {
                backend.avgPool2dForward(g, x, y);
                backend.avgPool2dBackward(g, dy, dx);
            }
            assertClose(name + " y", fx.values(name, "y"), backend.download(y), tol);
            assertClose(name + " dx", fx.values(name, "dx"), backend.download(dx), tol);
        }));
    }

    /** A dense layer the way layers will write it: y = x W^T (gemm) + b (channelBroadcast), and its backward. */
    @TestFactory
    public Stream<DynamicTest> denseThroughGemm() {
        Fixtures fx = Fixtures.load("dense");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int n = s.get("batch").asInt(), in = s.get("in_features").asInt(), out = s.get("out_features").asInt();
            Tensor x = fx.upload(backend, name, "x"), w = fx.upload(backend, name, "w"), b = fx.upload(backend, name, "b");
            Tensor dy = fx.upload(backend, name, "dy");
            Tensor y = backend.allocate(Shape.of(n, out)), dx = backend.allocate(Shape.of(n, in));
            Tensor dw = backend.allocate(Shape.of(out, in)), db = backend.allocate(Shape.of(out));

            // y[n, out] = x[n, in] * W[out, in]^T, then + b per output feature (channels = out, inner = 1)
            backend.gemm(new Gemm(false, true, n, out, in, 1), 1f, Matrix.of(x, in), Matrix.of(w, in), 0f, Matrix.of(y, out));
            backend.channelBroadcast(BinaryOp.ADD, y, b, y, n, out, 1);
            // dx[n, in] = dy[n, out] * W[out, in];  dW[out, in] = dy^T * x;  db = column sums of dy
            backend.gemm(new Gemm(false, false, n, in, out, 1), 1f, Matrix.of(dy, out), Matrix.of(w, in), 0f, Matrix.of(dx, in));
            backend.gemm(new Gemm(true, false, out, in, n, 1), 1f, Matrix.of(dy, out), Matrix.of(x, in), 0f, Matrix.of(dw, in));
            backend.channelSum(dy, db, n, out, 1, 0f);

            assertClose(name + " y", fx.values(name, "y"), backend.download(y), tol);
            assertClose(name + " dx", fx.values(name, "dx"), backend.download(dx), tol);
            assertClose(name + " dw", fx.values(name, "dw"), backend.download(dw), tol);
            assertClose(name + " db", fx.values(name, "db"), backend.download(db), tol);
        }));
    }

    @TestFactory
    public Stream<DynamicTest> softmaxAndCrossEntropy() {
        Fixtures fx = Fixtures.load("softmax");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int rows = s.get("rows").asInt(), classes = s.get("classes").asInt();
            float gradScale = (float) s.get("grad_scale").asDouble();
            Tensor x = fx.upload(backend, name, "x"), dy = fx.upload(backend, name, "dy"), labels = fx.upload(backend, name, "labels");
            Tensor y = backend.allocate(x.shape()), dx = backend.allocate(x.shape()), dLogits = backend.allocate(x.shape());

            backend.softmax(x, y, rows, classes);
            backend.softmaxBackward(y, dy, dx, rows, classes);
            double loss = backend.softmaxCrossEntropy(x, labels, dLogits, rows, classes, gradScale);

            assertClose(name + " softmax", fx.values(name, "y"), backend.download(y), tol);
            assertClose(name + " softmax backward", fx.values(name, "dx"), backend.download(dx), tol);
            assertClose(name + " loss", fx.values(name, "loss"), new float[] {(float) loss}, tol);
            assertClose(name + " dLogits", fx.values(name, "dlogits"), backend.download(dLogits), tol);
        }));
    }

    @TestFactory
    public Stream<DynamicTest> unaryForwardAndBackward() {
        Fixtures fx = Fixtures.load("elementwise");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            UnaryOp op = UnaryOp.valueOf(fx.settings(name).get("op").asText());
            Tensor x = fx.upload(backend, name, "x"), dy = fx.upload(backend, name, "dy");
            Tensor y = backend.allocate(x.shape()), dx = backend.allocate(x.shape());
            backend.unary(op, x, y);
            backend.unaryBackward(op, x, y, dy, dx);
            assertClose(name + " y", fx.values(name, "y"), backend.download(y), tol);
            assertClose(name + " dx", fx.values(name, "dx"), backend.download(dx), tol);
        }));
    }

    /** y = scale * x + shift, into another tensor (stale values overwritten) and in place. */
    @TestFactory
    public Stream<DynamicTest> affineScaleAndShift() {
        Fixtures fx = Fixtures.load("affine");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            float scale = (float) s.get("scale").asDouble(), shift = (float) s.get("shift").asDouble();
            Tensor x = fx.upload(backend, name, "x"), y = backend.allocate(x.shape());
            backend.fill(y, 7f);
            backend.affine(Slice.of(x), scale, shift, Slice.of(y));
            assertClose(name + " y", fx.values(name, "y"), backend.download(y), tol);
            backend.affine(Slice.of(x), scale, shift, Slice.of(x));
            assertClose(name + " y (in place)", fx.values(name, "y"), backend.download(x), tol);
        }));
    }

    /** The maximum per channel of x viewed as [outer, channels, inner]: exact, whatever the order of comparison. */
    @TestFactory
    public Stream<DynamicTest> channelMaxReduction() {
        Fixtures fx = Fixtures.load("channel_max");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Tensor x = fx.upload(backend, name, "x"), out = backend.allocate(Shape.of(s.get("channels").asInt()));
            backend.fill(out, 7f);
            backend.channelMax(x, out, s.get("outer").asInt(), s.get("channels").asInt(), s.get("inner").asInt());
            assertArrayEquals(fx.values(name, "out"), backend.download(out), name + " out");
        }));
    }

    /**
     * Three steps of each optimiser (SGD, Adam, AdamW, RMSprop) with fresh gradients, against
     * {@code torch.optim}; the parameter is compared after every step and the state at the end.
     */
    @TestFactory
    public Stream<DynamicTest> optimizerSteps() {
        Fixtures fx = Fixtures.load("optimizers");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Tensor param = fx.upload(backend, name, "param0");
            Tensor state1 = backend.allocate(param.shape()), state2 = backend.allocate(param.shape()), state3 = backend.allocate(param.shape());
            float lr = (float) s.get("lr").asDouble(), wd = (float) s.get("weight_decay").asDouble();
            for (int t = 1; t <= s.get("steps").asInt(); t++) {
                Tensor grad = fx.upload(backend, name, "grad" + t);
                if (name.startsWith("sgd")) {
                    backend.sgdUpdate(param, grad, state1, lr, (float) s.get("momentum").asDouble(), wd, s.get("nesterov").asBoolean());
                } else if (name.startsWith("adamw")) {
                    backend.adamwUpdate(param, grad, state1, state2, lr, (float) s.get("beta1").asDouble(), (float) s.get("beta2").asDouble(),
                            (float) s.get("eps").asDouble(), wd, t);
                } else if (name.startsWith("adam")) {
                    backend.adamUpdate(param, grad, state1, state2, lr, (float) s.get("beta1").asDouble(), (float) s.get("beta2").asDouble(),
                            (float) s.get("eps").asDouble(), wd, t);
                } else if (name.startsWith("rmsprop")) {
                    float momentum = (float) s.get("momentum").asDouble();
                    boolean centered = s.get("centered").asBoolean();
                    backend.rmspropUpdate(param, grad, state1, momentum != 0f ? state2 : null, centered ? state3 : null, lr,
                            (float) s.get("alpha").asDouble(), (float) s.get("eps").asDouble(), wd, momentum, centered);
                } else {
                    throw new IllegalStateException("optimizers fixture case " + name + " names no optimiser this test knows");
                }
                assertClose(name + " param after step " + t, fx.values(name, "param" + t), backend.download(param), tol);
            }
            if (fx.has(name, "velocity")) assertClose(name + " velocity", fx.values(name, "velocity"), backend.download(state1), tol);
            if (fx.has(name, "m")) {
                assertClose(name + " m", fx.values(name, "m"), backend.download(state1), tol);
                assertClose(name + " v", fx.values(name, "v"), backend.download(state2), tol);
            }
            if (fx.has(name, "square_avg")) assertClose(name + " square_avg", fx.values(name, "square_avg"), backend.download(state1), tol);
            if (fx.has(name, "momentum_buffer")) {
                assertClose(name + " momentum_buffer", fx.values(name, "momentum_buffer"), backend.download(state2), tol);
            }
            if (fx.has(name, "grad_avg")) assertClose(name + " grad_avg", fx.values(name, "grad_avg"), backend.download(state3), tol);
        }));
    }

    /**
     * One training step (y, saved statistics, running statistics after the momentum update),
     * its backward, and evaluation from the running statistics. Outputs start stale (7s) to show
     * they are overwritten.
     */
    @TestFactory
    public Stream<DynamicTest> batchNormTrainingEvaluationAndBackward() {
        Fixtures fx = Fixtures.load("batchnorm");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int outer = s.get("outer").asInt(), channels = s.get("channels").asInt(), inner = s.get("inner").asInt();
            float eps = (float) s.get("eps").asDouble(), momentum = (float) s.get("momentum").asDouble();
            Tensor x = fx.upload(backend, name, "x"), gamma = fx.upload(backend, name, "gamma"), beta = fx.upload(backend, name, "beta");
            Tensor runningMean = fx.upload(backend, name, "running_mean0"), runningVar = fx.upload(backend, name, "running_var0");
            Tensor y = backend.allocate(x.shape()), saveMean = backend.allocate(gamma.shape()), saveInvStd = backend.allocate(gamma.shape());
            Tensor dx = backend.allocate(x.shape()), dgamma = backend.allocate(gamma.shape()), dbeta = backend.allocate(gamma.shape());
            for (Tensor t : new Tensor[] {y, saveMean, saveInvStd, dx, dgamma, dbeta}) backend.fill(t, 7f);

            backend.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, eps, momentum, true);
            backend.batchNormBackward(x, fx.upload(backend, name, "dy"), gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
            assertClose(name + " y", fx.values(name, "y"), backend.download(y), tol);
            assertClose(name + " saveMean", fx.values(name, "save_mean"), backend.download(saveMean), tol);
            assertClose(name + " saveInvStd", fx.values(name, "save_invstd"), backend.download(saveInvStd), tol);
            assertClose(name + " running mean", fx.values(name, "running_mean1"), backend.download(runningMean), tol);
            assertClose(name + " running var", fx.values(name, "running_var1"), backend.download(runningVar), tol);
            assertClose(name + " dx", fx.values(name, "dx"), backend.download(dx), tol);
            assertClose(name + " dgamma", fx.values(name, "dgamma"), backend.download(dgamma), tol);
            assertClose(name + " dbeta", fx.values(name, "dbeta"), backend.download(dbeta), tol);

            // Evaluation normalises with the (initial) running statistics and saves nothing.
            Tensor yEval = backend.allocate(x.shape());
            backend.batchNormForward(x, yEval, gamma, beta, fx.upload(backend, name, "running_mean0"), fx.upload(backend, name, "running_var0"),
                    null, null, outer, channels, inner, eps, momentum, false);
            assertClose(name + " y (evaluation)", fx.values(name, "y_eval"), backend.download(yEval), tol);
        }));
    }

    @TestFactory
    public Stream<DynamicTest> localResponseNormForwardAndBackward() {
        Fixtures fx = Fixtures.load("lrn");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int batch = s.get("batch").asInt(), channels = s.get("channels").asInt(), inner = s.get("inner").asInt();
            int size = s.get("size").asInt();
            float alpha = (float) s.get("alpha").asDouble(), beta = (float) s.get("beta").asDouble(), k = (float) s.get("k").asDouble();
            Tensor x = fx.upload(backend, name, "x"), dy = fx.upload(backend, name, "dy");
            Tensor y = backend.allocate(x.shape()), scale = backend.allocate(x.shape()), dx = backend.allocate(x.shape());
            backend.fill(dx, 7f);
            backend.lrnForward(x, y, scale, batch, channels, inner, size, alpha, beta, k);
            backend.lrnBackward(x, y, scale, dy, dx, batch, channels, inner, size, alpha, beta, k);
            assertClose(name + " y", fx.values(name, "y"), backend.download(y), tol);
            assertClose(name + " scale", fx.values(name, "scale"), backend.download(scale), tol);
            assertClose(name + " dx", fx.values(name, "dx"), backend.download(dx), tol);
        }));
    }

    /**
     * One LSTMCell / GRUCell step as a recurrent layer runs it: the pre-activations come from the
     * fixture (the layer's GEMMs), every slice sits at an offset inside a larger tensor, and the
     * full dL/dh_{t-1} is the cell's direct part plus dGates (or dGh) times W_hh, compared with
     * PyTorch's h0.grad. Each step runs again as {@code lstmStepForward} / {@code gruStepForward},
     * the recurrent product h0 W_hhᵀ in the op.
     */
    @TestFactory
    public Stream<DynamicTest> recurrentCellStep() {
        Fixtures fx = Fixtures.load("recurrent");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int batch = s.get("batch").asInt(), hidden = s.get("hidden").asInt();
            int state = batch * hidden;
            Placed h0 = slice(fx, name, "h0", 3), dh = slice(fx, name, "dh", 5), h = emptySlice(state, 2);
            Tensor wHh = fx.upload(backend, name, "w_hh");
            if (s.get("cell").asText().equals("lstm")) {
                Placed gates = slice(fx, name, "gates_pre", 4), c0 = slice(fx, name, "c0", 1), c = emptySlice(state, 6);
                Placed dc = slice(fx, name, "dc", 2), dGates = emptySlice(4 * state, 3);
                backend.lstmCellForward(gates.s(), c0.s(), c.s(), h.s(), batch, hidden);
                assertClose(name + " gate activations", fx.values(name, "gates_act"), gates.values(), tol);
                assertClose(name + " c", fx.values(name, "c1"), c.values(), tol);
                assertClose(name + " h", fx.values(name, "h1"), h.values(), tol);

                backend.lstmCellBackward(gates.s(), c0.s(), c.s(), dh.s(), dc.s(), dGates.s(), batch, hidden);
                assertClose(name + " dGates", fx.values(name, "d_gates"), dGates.values(), tol);
                assertClose(name + " dc_prev", fx.values(name, "dc_prev"), dc.values(), tol);
                // dh_{t-1}[B, H] = dGates[B, 4H] * W_hh[4H, H]
                Tensor dh0 = backend.allocate(Shape.of(batch, hidden));
                backend.gemm(new Gemm(false, false, batch, hidden, 4 * hidden, 1), 1f, Matrix.at(dGates.t, dGates.off, 4 * hidden), Matrix.of(wHh, hidden), 0f, Matrix.of(dh0, hidden));
                assertClose(name + " dh_prev", fx.values(name, "dh0_full"), backend.download(dh0), tol);

                // The same step as lstmStepForward: the gates start without the recurrent part
                // (gates_pre - h0 W_hhᵀ), which the op adds back before the cell.
                Placed input = slice(fx, name, "gates_pre", 1), cStep = emptySlice(state, 4), hStep = emptySlice(state, 3);
                Matrix h0m = Matrix.at(h0.t, h0.off, hidden), wHhm = Matrix.of(wHh, hidden);
                backend.gemm(new Gemm(false, true, batch, 4 * hidden, hidden, 1), -1f, h0m, wHhm, 1f, Matrix.at(input.t, input.off, 4 * hidden));
                backend.lstmStepForward(h0m, wHhm, input.s(), c0.s(), cStep.s(), hStep.s(), batch, hidden);
                assertClose(name + " step gate activations", fx.values(name, "gates_act"), input.values(), tol);
                assertClose(name + " step c", fx.values(name, "c1"), cStep.values(), tol);
                assertClose(name + " step h", fx.values(name, "h1"), hStep.values(), tol);
            } else {
                Placed gi = slice(fx, name, "gi", 4), gh = slice(fx, name, "gh", 1), saved = emptySlice(3 * state, 7);
                Placed dGi = emptySlice(3 * state, 2), dGh = emptySlice(3 * state, 5), dhPrev = emptySlice(state, 1);
                backend.gruCellForward(gi.s(), gh.s(), h0.s(), h.s(), saved.s(), batch, hidden);
                assertClose(name + " saved r, z, n", fx.values(name, "saved"), saved.values(), tol);
                assertClose(name + " h", fx.values(name, "h1"), h.values(), tol);

                backend.gruCellBackward(saved.s(), gh.s(), h0.s(), dh.s(), dGi.s(), dGh.s(), dhPrev.s(), batch, hidden);
                assertClose(name + " dGi", fx.values(name, "d_gi"), dGi.values(), tol);
                assertClose(name + " dGh", fx.values(name, "d_gh"), dGh.values(), tol);
                // dh_{t-1} = z * dh (the cell) + dGh[B, 3H] * W_hh[3H, H] (accumulated by the GEMM)
                backend.gemm(new Gemm(false, false, batch, hidden, 3 * hidden, 1), 1f, Matrix.at(dGh.t, dGh.off, 3 * hidden), Matrix.of(wHh, hidden), 1f, Matrix.at(dhPrev.t, dhPrev.off, hidden));
                assertClose(name + " dh_prev", fx.values(name, "dh0_full"), dhPrev.values(), tol);

                // The same step as gruStepForward: gh starts without the recurrent part (gh - h0 W_hhᵀ,
                // b_hh alone), which the op adds back, keeping the sum in gh, before the cell.
                Placed ghStep = slice(fx, name, "gh", 2), hStep = emptySlice(state, 4), savedStep = emptySlice(3 * state, 1);
                Matrix wHhm = Matrix.of(wHh, hidden);
                backend.gemm(new Gemm(false, true, batch, 3 * hidden, hidden, 1), -1f, Matrix.at(h0.t, h0.off, hidden), wHhm, 1f,
                        Matrix.at(ghStep.t, ghStep.off, 3 * hidden));
                backend.gruStepForward(h0.s(), wHhm, gi.s(), ghStep.s(), hStep.s(), savedStep.s(), batch, hidden);
                assertClose(name + " step gh", fx.values(name, "gh"), ghStep.values(), tol);
                assertClose(name + " step saved r, z, n", fx.values(name, "saved"), savedStep.values(), tol);
                assertClose(name + " step h", fx.values(name, "h1"), hStep.values(), tol);
            }
        }));
    }

    /** A fixture tensor placed at offset {@code off} of a larger NaN-filled tensor: a time-step slice. */
    private Placed slice(Fixtures fx, String caseName, String tensor, int off) {
        float[] v = fx.values(caseName, tensor);
        Placed slice = emptySlice(v.length, off);
        backend.upload(v, 0, Slice.of(slice.t, off, v.length));
        return slice;
    }

    /** {@code length} floats at {@code off} inside a tensor of {@code off + length + 3}, the rest NaN. */
    private Placed emptySlice(int length, int off) {
        Tensor t = backend.allocate(Shape.of(off + length + 3));
        backend.fill(t, Float.NaN);
        return new Placed(t, off, length);
    }

    /** A slice of a backend tensor; reading it checks that nothing outside it was written. */
    private final class Placed {
        final Tensor t;
        final int off, length;

        Placed(Tensor t, int off, int length) {
            this.t = t;
            this.off = off;
            this.length = length;
        }

        /** The backend slice this stands for. */
        Slice s() { return Slice.of(t, off, length); }

        float[] values() {
            float[] all = backend.download(t);
            for (int i = 0; i < all.length; i++)
                if ((i < off || i >= off + length) && !Float.isNaN(all[i])) throw new AssertionError("wrote outside the slice at " + i);
            float[] v = new float[length];
            System.arraycopy(all, off, v, 0, length);
            return v;
        }
    }

    @TestFactory
    public Stream<DynamicTest> embeddingGatherAndScatterAdd() {
        Fixtures fx = Fixtures.load("embedding");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int rows = s.get("rows").asInt(), width = s.get("width").asInt();
            Tensor table = fx.upload(backend, name, "table"), indices = fx.upload(backend, name, "indices");
            Tensor out = backend.allocate(Shape.of(rows, width)), dTable = fx.upload(backend, name, "d_table0");
            backend.gatherRows(table, indices, out, rows, width);
            backend.scatterAddRows(fx.upload(backend, name, "d_out"), indices, dTable, rows, width);
            assertClose(name + " out", fx.values(name, "out"), backend.download(out), tol);
            assertClose(name + " dTable (accumulated)", fx.values(name, "d_table1"), backend.download(dTable), tol);
        }));
    }

    @TestFactory
    public Stream<DynamicTest> zeroPaddingAndItsAdjoint() {
        Fixtures fx = Fixtures.load("pad2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int planes = s.get("planes").asInt(), h = s.get("h").asInt(), w = s.get("w").asInt();
            int top = s.get("top").asInt(), left = s.get("left").asInt(), outH = s.get("out_h").asInt(), outW = s.get("out_w").asInt();
            Tensor x = fx.upload(backend, name, "x"), dy = fx.upload(backend, name, "dy");
            Tensor y = backend.allocate(dy.shape()), dx = backend.allocate(x.shape());
            backend.fill(y, 7f);
            backend.pad2d(x, y, planes, h, w, top, left, outH, outW);
            backend.crop2d(dy, dx, planes, h, w, top, left, outH, outW);
            assertArrayEquals(fx.values(name, "y"), backend.download(y), name + " y");
            assertArrayEquals(fx.values(name, "dx"), backend.download(dx), name + " dx");
        }));
    }
}
