package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.neurite.backend.opencl.Twins.assertClose;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The OpenCL backend against PyTorch, on the same fixture files and cases the CPU backend is held
 * to (backend-cl's {@code src/test/resources/fixtures}, made by
 * {@code tools/fixtures/ops/make_op_fixtures.py}): conv2d, pooling, dense through GEMM, softmax and
 * cross-entropy, unary ops, SGD/Adam over three steps, batch norm, LRN, one LSTM/GRU step at
 * offsets, embeddings and zero padding, each compared with PyTorch's float64 results within
 * {@link #TOL} (relative + absolute, see {@link Twins#assertClose}), the CPU backend's tolerance.
 */
class ClPyTorchParityTest {
    /** float32 arithmetic against float64 references: sums of up to a few hundred products. */
    static final double TOL = 1e-4;

    private static Backend cl;

    @BeforeAll static void start() { cl = OpenClTests.backend(); }

    @TestFactory
    Stream<DynamicTest> conv2dForwardAndGradients() {
        TorchFixtures fx = TorchFixtures.load("conv2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Conv2dGeometry g = new Conv2dGeometry(s.get("batch").asInt(), s.get("in_channels").asInt(), s.get("height").asInt(),
                    s.get("width").asInt(), s.get("out_channels").asInt(), s.get("kernel").get(0).asInt(), s.get("kernel").get(1).asInt(),
                    s.get("stride").get(0).asInt(), s.get("stride").get(1).asInt(), s.get("padding").get(0).asInt(),
                    s.get("padding").get(1).asInt(), s.get("dilation").get(0).asInt(), s.get("dilation").get(1).asInt(),
                    s.get("groups").asInt());
            boolean bias = s.get("bias").asBoolean();
            Tensor x = fx.upload(cl, name, "x"), w = fx.upload(cl, name, "w"), dy = fx.upload(cl, name, "dy");
            Tensor b = bias ? fx.upload(cl, name, "b") : null;
            Tensor y = cl.allocate(fx.tensor(name, "y").shape());
            Tensor dx = cl.allocate(x.shape()), dw = cl.allocate(w.shape());
            Tensor db = bias ? cl.allocate(Shape.of(g.outChannels())) : null;
            assertEquals(fx.tensor(name, "y").shape(), Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth()), "output shape");

            cl.conv2dForward(g, x, w, b, y);
            cl.conv2dBackwardData(g, dy, w, dx);
            // Stale values must be overwritten, not accumulated.
            cl.fill(dw, 7f);
            if (bias) cl.fill(db, 7f);
            cl.conv2dBackwardFilter(g, x, dy, dw, db);

            assertClose(name + " y", fx.values(name, "y"), cl.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cl.download(dx), TOL);
            assertClose(name + " dw", fx.values(name, "dw"), cl.download(dw), TOL);
            if (bias) assertClose(name + " db", fx.values(name, "db"), cl.download(db), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> pool2dForwardAndBackward() {
        TorchFixtures fx = TorchFixtures.load("pool2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Pool2dGeometry g = new Pool2dGeometry(s.get("batch").asInt(), s.get("channels").asInt(), s.get("height").asInt(),
                    s.get("width").asInt(), s.get("kernel").get(0).asInt(), s.get("kernel").get(1).asInt(),
                    s.get("stride").get(0).asInt(), s.get("stride").get(1).asInt(), s.get("padding").get(0).asInt(),
                    s.get("padding").get(1).asInt(), s.get("ceil_mode").asBoolean(), s.get("count_include_pad").asBoolean());
            Shape outShape = fx.tensor(name, "y").shape();
            assertEquals(outShape, Shape.of(g.batch(), g.channels(), g.outHeight(), g.outWidth()), "output shape");
            Tensor x = fx.upload(cl, name, "x"), dy = fx.upload(cl, name, "dy");
            Tensor y = cl.allocate(outShape), dx = cl.allocate(x.shape());
            cl.fill(dx, 7f);
            if (s.get("kind").asText().equals("max")) {
                Tensor argmax = cl.allocate(outShape);
                cl.maxPool2dForward(g, x, y, argmax);
                cl.maxPool2dBackward(g, dy, argmax, dx);
                assertArrayEquals(fx.values(name, "argmax"), cl.download(argmax), name + " argmax");
            } else {
                cl.avgPool2dForward(g, x, y);
                cl.avgPool2dBackward(g, dy, dx);
            }
            assertClose(name + " y", fx.values(name, "y"), cl.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cl.download(dx), TOL);
        }));
    }

    /** A dense layer the way layers will write it: y = x W^T (gemm) + b (channelBroadcast), and its backward. */
    @TestFactory
    Stream<DynamicTest> denseThroughGemm() {
        TorchFixtures fx = TorchFixtures.load("dense");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int n = s.get("batch").asInt(), in = s.get("in_features").asInt(), out = s.get("out_features").asInt();
            Tensor x = fx.upload(cl, name, "x"), w = fx.upload(cl, name, "w"), b = fx.upload(cl, name, "b");
            Tensor dy = fx.upload(cl, name, "dy");
            Tensor y = cl.allocate(Shape.of(n, out)), dx = cl.allocate(Shape.of(n, in));
            Tensor dw = cl.allocate(Shape.of(out, in)), db = cl.allocate(Shape.of(out));

            // y[n, out] = x[n, in] * W[out, in]^T, then + b per output feature (channels = out, inner = 1)
            cl.gemm(false, true, n, out, in, 1f, x, 0, in, w, 0, in, 0f, y, 0, out);
            cl.channelBroadcast(BinaryOp.ADD, y, b, y, n, out, 1);
            // dx[n, in] = dy[n, out] * W[out, in];  dW[out, in] = dy^T * x;  db = column sums of dy
            cl.gemm(false, false, n, in, out, 1f, dy, 0, out, w, 0, in, 0f, dx, 0, in);
            cl.gemm(true, false, out, in, n, 1f, dy, 0, out, x, 0, in, 0f, dw, 0, in);
            cl.channelSum(dy, db, n, out, 1, 0f);

            assertClose(name + " y", fx.values(name, "y"), cl.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cl.download(dx), TOL);
            assertClose(name + " dw", fx.values(name, "dw"), cl.download(dw), TOL);
            assertClose(name + " db", fx.values(name, "db"), cl.download(db), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> softmaxAndCrossEntropy() {
        TorchFixtures fx = TorchFixtures.load("softmax");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int rows = s.get("rows").asInt(), classes = s.get("classes").asInt();
            float gradScale = (float) s.get("grad_scale").asDouble();
            Tensor x = fx.upload(cl, name, "x"), dy = fx.upload(cl, name, "dy"), labels = fx.upload(cl, name, "labels");
            Tensor y = cl.allocate(x.shape()), dx = cl.allocate(x.shape()), dLogits = cl.allocate(x.shape());

            cl.softmax(x, y, rows, classes);
            cl.softmaxBackward(y, dy, dx, rows, classes);
            double loss = cl.softmaxCrossEntropy(x, labels, dLogits, rows, classes, gradScale);

            assertClose(name + " softmax", fx.values(name, "y"), cl.download(y), TOL);
            assertClose(name + " softmax backward", fx.values(name, "dx"), cl.download(dx), TOL);
            assertClose(name + " loss", fx.values(name, "loss"), new float[] {(float) loss}, TOL);
            assertClose(name + " dLogits", fx.values(name, "dlogits"), cl.download(dLogits), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> unaryForwardAndBackward() {
        TorchFixtures fx = TorchFixtures.load("elementwise");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            UnaryOp op = UnaryOp.valueOf(fx.settings(name).get("op").asText());
            Tensor x = fx.upload(cl, name, "x"), dy = fx.upload(cl, name, "dy");
            Tensor y = cl.allocate(x.shape()), dx = cl.allocate(x.shape());
            cl.unary(op, x, y);
            cl.unaryBackward(op, x, y, dy, dx);
            assertClose(name + " y", fx.values(name, "y"), cl.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cl.download(dx), TOL);
        }));
    }

    /** Three steps of each optimiser with fresh gradients; the parameter is compared after every step. */
    @TestFactory
    Stream<DynamicTest> optimizerSteps() {
        TorchFixtures fx = TorchFixtures.load("optimizers");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Tensor param = fx.upload(cl, name, "param0");
            Tensor state1 = cl.allocate(param.shape()), state2 = cl.allocate(param.shape());
            float lr = (float) s.get("lr").asDouble(), wd = (float) s.get("weight_decay").asDouble();
            for (int t = 1; t <= s.get("steps").asInt(); t++) {
                Tensor grad = fx.upload(cl, name, "grad" + t);
                if (name.startsWith("sgd")) {
                    cl.sgdUpdate(param, grad, state1, lr, (float) s.get("momentum").asDouble(), wd, s.get("nesterov").asBoolean());
                } else {
                    cl.adamUpdate(param, grad, state1, state2, lr, (float) s.get("beta1").asDouble(), (float) s.get("beta2").asDouble(),
                            (float) s.get("eps").asDouble(), wd, t);
                }
                assertClose(name + " param after step " + t, fx.values(name, "param" + t), cl.download(param), TOL);
            }
            if (fx.has(name, "velocity")) assertClose(name + " velocity", fx.values(name, "velocity"), cl.download(state1), TOL);
            if (fx.has(name, "m")) {
                assertClose(name + " m", fx.values(name, "m"), cl.download(state1), TOL);
                assertClose(name + " v", fx.values(name, "v"), cl.download(state2), TOL);
            }
        }));
    }

    /**
     * One training step (y, saved statistics, running statistics after the momentum update),
     * its backward, and evaluation from the running statistics. Outputs start stale (7s) to show
     * they are overwritten.
     */
    @TestFactory
    Stream<DynamicTest> batchNormTrainingEvaluationAndBackward() {
        TorchFixtures fx = TorchFixtures.load("batchnorm");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int outer = s.get("outer").asInt(), channels = s.get("channels").asInt(), inner = s.get("inner").asInt();
            float eps = (float) s.get("eps").asDouble(), momentum = (float) s.get("momentum").asDouble();
            Tensor x = fx.upload(cl, name, "x"), gamma = fx.upload(cl, name, "gamma"), beta = fx.upload(cl, name, "beta");
            Tensor runningMean = fx.upload(cl, name, "running_mean0"), runningVar = fx.upload(cl, name, "running_var0");
            Tensor y = cl.allocate(x.shape()), saveMean = cl.allocate(gamma.shape()), saveInvStd = cl.allocate(gamma.shape());
            Tensor dx = cl.allocate(x.shape()), dgamma = cl.allocate(gamma.shape()), dbeta = cl.allocate(gamma.shape());
            for (Tensor t : new Tensor[] {y, saveMean, saveInvStd, dx, dgamma, dbeta}) cl.fill(t, 7f);

            cl.batchNormForward(x, y, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, outer, channels, inner, eps, momentum, true);
            cl.batchNormBackward(x, fx.upload(cl, name, "dy"), gamma, saveMean, saveInvStd, dx, dgamma, dbeta, outer, channels, inner);
            assertClose(name + " y", fx.values(name, "y"), cl.download(y), TOL);
            assertClose(name + " saveMean", fx.values(name, "save_mean"), cl.download(saveMean), TOL);
            assertClose(name + " saveInvStd", fx.values(name, "save_invstd"), cl.download(saveInvStd), TOL);
            assertClose(name + " running mean", fx.values(name, "running_mean1"), cl.download(runningMean), TOL);
            assertClose(name + " running var", fx.values(name, "running_var1"), cl.download(runningVar), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cl.download(dx), TOL);
            assertClose(name + " dgamma", fx.values(name, "dgamma"), cl.download(dgamma), TOL);
            assertClose(name + " dbeta", fx.values(name, "dbeta"), cl.download(dbeta), TOL);

            // Evaluation normalises with the (initial) running statistics and saves nothing.
            Tensor yEval = cl.allocate(x.shape());
            cl.batchNormForward(x, yEval, gamma, beta, fx.upload(cl, name, "running_mean0"), fx.upload(cl, name, "running_var0"),
                    null, null, outer, channels, inner, eps, momentum, false);
            assertClose(name + " y (evaluation)", fx.values(name, "y_eval"), cl.download(yEval), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> localResponseNormForwardAndBackward() {
        TorchFixtures fx = TorchFixtures.load("lrn");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int batch = s.get("batch").asInt(), channels = s.get("channels").asInt(), inner = s.get("inner").asInt();
            int size = s.get("size").asInt();
            float alpha = (float) s.get("alpha").asDouble(), beta = (float) s.get("beta").asDouble(), k = (float) s.get("k").asDouble();
            Tensor x = fx.upload(cl, name, "x"), dy = fx.upload(cl, name, "dy");
            Tensor y = cl.allocate(x.shape()), scale = cl.allocate(x.shape()), dx = cl.allocate(x.shape());
            cl.fill(dx, 7f);
            cl.lrnForward(x, y, scale, batch, channels, inner, size, alpha, beta, k);
            cl.lrnBackward(x, y, scale, dy, dx, batch, channels, inner, size, alpha, beta, k);
            assertClose(name + " y", fx.values(name, "y"), cl.download(y), TOL);
            assertClose(name + " scale", fx.values(name, "scale"), cl.download(scale), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cl.download(dx), TOL);
        }));
    }

    /**
     * One LSTMCell / GRUCell step as a recurrent layer runs it: the pre-activations come from the
     * fixture (the layer's GEMMs), every slice sits at an offset inside a larger tensor, and the
     * full dL/dh_{t-1} is the cell's direct part plus dGates (or dGh) times W_hh, compared with
     * PyTorch's h0.grad.
     */
    @TestFactory
    Stream<DynamicTest> recurrentCellStep() {
        TorchFixtures fx = TorchFixtures.load("recurrent");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int batch = s.get("batch").asInt(), hidden = s.get("hidden").asInt();
            int state = batch * hidden;
            Slice h0 = slice(fx, name, "h0", 3), dh = slice(fx, name, "dh", 5), h = Slice.empty(state, 2);
            Tensor wHh = fx.upload(cl, name, "w_hh");
            if (s.get("cell").asText().equals("lstm")) {
                Slice gates = slice(fx, name, "gates_pre", 4), c0 = slice(fx, name, "c0", 1), c = Slice.empty(state, 6);
                Slice dc = slice(fx, name, "dc", 2), dGates = Slice.empty(4 * state, 3);
                cl.lstmCellForward(gates.t, gates.off, c0.t, c0.off, c.t, c.off, h.t, h.off, batch, hidden);
                assertClose(name + " gate activations", fx.values(name, "gates_act"), gates.values(), TOL);
                assertClose(name + " c", fx.values(name, "c1"), c.values(), TOL);
                assertClose(name + " h", fx.values(name, "h1"), h.values(), TOL);

                cl.lstmCellBackward(gates.t, gates.off, c0.t, c0.off, c.t, c.off, dh.t, dh.off, dc.t, dc.off, dGates.t, dGates.off, batch, hidden);
                assertClose(name + " dGates", fx.values(name, "d_gates"), dGates.values(), TOL);
                assertClose(name + " dc_prev", fx.values(name, "dc_prev"), dc.values(), TOL);
                // dh_{t-1}[B, H] = dGates[B, 4H] * W_hh[4H, H]
                Tensor dh0 = cl.allocate(Shape.of(batch, hidden));
                cl.gemm(false, false, batch, hidden, 4 * hidden, 1f, dGates.t, dGates.off, 4 * hidden, wHh, 0, hidden, 0f, dh0, 0, hidden);
                assertClose(name + " dh_prev", fx.values(name, "dh0_full"), cl.download(dh0), TOL);
            } else {
                Slice gi = slice(fx, name, "gi", 4), gh = slice(fx, name, "gh", 1), saved = Slice.empty(3 * state, 7);
                Slice dGi = Slice.empty(3 * state, 2), dGh = Slice.empty(3 * state, 5), dhPrev = Slice.empty(state, 1);
                cl.gruCellForward(gi.t, gi.off, gh.t, gh.off, h0.t, h0.off, h.t, h.off, saved.t, saved.off, batch, hidden);
                assertClose(name + " saved r, z, n", fx.values(name, "saved"), saved.values(), TOL);
                assertClose(name + " h", fx.values(name, "h1"), h.values(), TOL);

                cl.gruCellBackward(saved.t, saved.off, gh.t, gh.off, h0.t, h0.off, dh.t, dh.off, dGi.t, dGi.off, dGh.t, dGh.off,
                        dhPrev.t, dhPrev.off, batch, hidden);
                assertClose(name + " dGi", fx.values(name, "d_gi"), dGi.values(), TOL);
                assertClose(name + " dGh", fx.values(name, "d_gh"), dGh.values(), TOL);
                // dh_{t-1} = z * dh (the cell) + dGh[B, 3H] * W_hh[3H, H] (accumulated by the GEMM)
                cl.gemm(false, false, batch, hidden, 3 * hidden, 1f, dGh.t, dGh.off, 3 * hidden, wHh, 0, hidden, 1f, dhPrev.t, dhPrev.off, hidden);
                assertClose(name + " dh_prev", fx.values(name, "dh0_full"), dhPrev.values(), TOL);
            }
        }));
    }

    /** A fixture tensor placed at offset {@code off} of a larger NaN-filled tensor: a time-step slice. */
    private static Slice slice(TorchFixtures fx, String caseName, String tensor, int off) {
        float[] v = fx.values(caseName, tensor);
        Slice slice = Slice.empty(v.length, off);
        cl.upload(v, 0, slice.t, off, v.length);
        return slice;
    }

    /** {@code length} floats at {@code off} inside a tensor of {@code off + length + 3}, the rest NaN. */
    private record Slice(Tensor t, int off, int length) {
        static Slice empty(int length, int off) {
            Tensor t = cl.allocate(Shape.of(off + length + 3));
            cl.fill(t, Float.NaN);
            return new Slice(t, off, length);
        }

        float[] values() {
            float[] all = cl.download(t);
            for (int i = 0; i < all.length; i++)
                if ((i < off || i >= off + length) && !Float.isNaN(all[i])) throw new AssertionError("wrote outside the slice at " + i);
            float[] v = new float[length];
            System.arraycopy(all, off, v, 0, length);
            return v;
        }
    }

    @TestFactory
    Stream<DynamicTest> embeddingGatherAndScatterAdd() {
        TorchFixtures fx = TorchFixtures.load("embedding");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int rows = s.get("rows").asInt(), width = s.get("width").asInt();
            Tensor table = fx.upload(cl, name, "table"), indices = fx.upload(cl, name, "indices");
            Tensor out = cl.allocate(Shape.of(rows, width)), dTable = fx.upload(cl, name, "d_table0");
            cl.gatherRows(table, indices, out, rows, width);
            cl.scatterAddRows(fx.upload(cl, name, "d_out"), indices, dTable, rows, width);
            assertClose(name + " out", fx.values(name, "out"), cl.download(out), TOL);
            assertClose(name + " dTable (accumulated)", fx.values(name, "d_table1"), cl.download(dTable), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> zeroPaddingAndItsAdjoint() {
        TorchFixtures fx = TorchFixtures.load("pad2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int planes = s.get("planes").asInt(), h = s.get("h").asInt(), w = s.get("w").asInt();
            int top = s.get("top").asInt(), left = s.get("left").asInt(), outH = s.get("out_h").asInt(), outW = s.get("out_w").asInt();
            Tensor x = fx.upload(cl, name, "x"), dy = fx.upload(cl, name, "dy");
            Tensor y = cl.allocate(dy.shape()), dx = cl.allocate(x.shape());
            cl.fill(y, 7f);
            cl.pad2d(x, y, planes, h, w, top, left, outH, outW);
            cl.crop2d(dy, dx, planes, h, w, top, left, outH, outW);
            assertArrayEquals(fx.values(name, "y"), cl.download(y), name + " y");
            assertArrayEquals(fx.values(name, "dx"), cl.download(dx), name + " dx");
        }));
    }
}
