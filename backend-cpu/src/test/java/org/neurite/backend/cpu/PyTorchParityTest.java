package org.neurite.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.neurite.backend.cpu.Fixtures.assertClose;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
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
 * The CPU backend against PyTorch: every case of every fixture file (see
 * {@code tools/fixtures/ops/make_op_fixtures.py}) is run through the backend's ops and compared
 * with PyTorch's float64 results within {@link #TOL} (relative + absolute, see
 * {@link Fixtures#assertClose}). A three-thread backend is used so the parallel paths run.
 */
class PyTorchParityTest {
    /** float32 arithmetic against float64 references: sums of up to a few hundred products. */
    static final double TOL = 1e-4;

    private static Backend cpu;

    @BeforeAll static void start() { cpu = new CpuBackend(3); }

    @AfterAll static void stop() { cpu.close(); }

    @TestFactory
    Stream<DynamicTest> conv2dForwardAndGradients() {
        Fixtures fx = Fixtures.load("conv2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Conv2dGeometry g = new Conv2dGeometry(s.get("batch").asInt(), s.get("in_channels").asInt(), s.get("height").asInt(),
                    s.get("width").asInt(), s.get("out_channels").asInt(), s.get("kernel").get(0).asInt(), s.get("kernel").get(1).asInt(),
                    s.get("stride").get(0).asInt(), s.get("stride").get(1).asInt(), s.get("padding").get(0).asInt(),
                    s.get("padding").get(1).asInt(), s.get("dilation").get(0).asInt(), s.get("dilation").get(1).asInt(),
                    s.get("groups").asInt());
            boolean bias = s.get("bias").asBoolean();
            Tensor x = fx.upload(cpu, name, "x"), w = fx.upload(cpu, name, "w"), dy = fx.upload(cpu, name, "dy");
            Tensor b = bias ? fx.upload(cpu, name, "b") : null;
            Tensor y = cpu.allocate(fx.tensor(name, "y").shape());
            Tensor dx = cpu.allocate(x.shape()), dw = cpu.allocate(w.shape());
            Tensor db = bias ? cpu.allocate(Shape.of(g.outChannels())) : null;
            assertEquals(fx.tensor(name, "y").shape(), Shape.of(g.batch(), g.outChannels(), g.outHeight(), g.outWidth()), "output shape");

            cpu.conv2dForward(g, x, w, b, y);
            cpu.conv2dBackwardData(g, dy, w, dx);
            // Stale values must be overwritten, not accumulated.
            cpu.fill(dw, 7f);
            if (bias) cpu.fill(db, 7f);
            cpu.conv2dBackwardFilter(g, x, dy, dw, db);

            assertClose(name + " y", fx.values(name, "y"), cpu.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cpu.download(dx), TOL);
            assertClose(name + " dw", fx.values(name, "dw"), cpu.download(dw), TOL);
            if (bias) assertClose(name + " db", fx.values(name, "db"), cpu.download(db), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> pool2dForwardAndBackward() {
        Fixtures fx = Fixtures.load("pool2d");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Pool2dGeometry g = new Pool2dGeometry(s.get("batch").asInt(), s.get("channels").asInt(), s.get("height").asInt(),
                    s.get("width").asInt(), s.get("kernel").get(0).asInt(), s.get("kernel").get(1).asInt(),
                    s.get("stride").get(0).asInt(), s.get("stride").get(1).asInt(), s.get("padding").get(0).asInt(),
                    s.get("padding").get(1).asInt(), s.get("ceil_mode").asBoolean(), s.get("count_include_pad").asBoolean());
            Shape outShape = fx.tensor(name, "y").shape();
            assertEquals(outShape, Shape.of(g.batch(), g.channels(), g.outHeight(), g.outWidth()), "output shape");
            Tensor x = fx.upload(cpu, name, "x"), dy = fx.upload(cpu, name, "dy");
            Tensor y = cpu.allocate(outShape), dx = cpu.allocate(x.shape());
            cpu.fill(dx, 7f);
            if (s.get("kind").asText().equals("max")) {
                Tensor argmax = cpu.allocate(outShape);
                cpu.maxPool2dForward(g, x, y, argmax);
                cpu.maxPool2dBackward(g, dy, argmax, dx);
                assertArrayEquals(fx.values(name, "argmax"), cpu.download(argmax), name + " argmax");
            } else {
                cpu.avgPool2dForward(g, x, y);
                cpu.avgPool2dBackward(g, dy, dx);
            }
            assertClose(name + " y", fx.values(name, "y"), cpu.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cpu.download(dx), TOL);
        }));
    }

    /** A dense layer the way layers will write it: y = x W^T (gemm) + b (channelBroadcast), and its backward. */
    @TestFactory
    Stream<DynamicTest> denseThroughGemm() {
        Fixtures fx = Fixtures.load("dense");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int n = s.get("batch").asInt(), in = s.get("in_features").asInt(), out = s.get("out_features").asInt();
            Tensor x = fx.upload(cpu, name, "x"), w = fx.upload(cpu, name, "w"), b = fx.upload(cpu, name, "b");
            Tensor dy = fx.upload(cpu, name, "dy");
            Tensor y = cpu.allocate(Shape.of(n, out)), dx = cpu.allocate(Shape.of(n, in));
            Tensor dw = cpu.allocate(Shape.of(out, in)), db = cpu.allocate(Shape.of(out));

            // y[n, out] = x[n, in] * W[out, in]^T, then + b per output feature (channels = out, inner = 1)
            cpu.gemm(false, true, n, out, in, 1f, x, 0, in, w, 0, in, 0f, y, 0, out);
            cpu.channelBroadcast(BinaryOp.ADD, y, b, y, n, out, 1);
            // dx[n, in] = dy[n, out] * W[out, in];  dW[out, in] = dy^T * x;  db = column sums of dy
            cpu.gemm(false, false, n, in, out, 1f, dy, 0, out, w, 0, in, 0f, dx, 0, in);
            cpu.gemm(true, false, out, in, n, 1f, dy, 0, out, x, 0, in, 0f, dw, 0, in);
            cpu.channelSum(dy, db, n, out, 1, 0f);

            assertClose(name + " y", fx.values(name, "y"), cpu.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cpu.download(dx), TOL);
            assertClose(name + " dw", fx.values(name, "dw"), cpu.download(dw), TOL);
            assertClose(name + " db", fx.values(name, "db"), cpu.download(db), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> softmaxAndCrossEntropy() {
        Fixtures fx = Fixtures.load("softmax");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            int rows = s.get("rows").asInt(), classes = s.get("classes").asInt();
            float gradScale = (float) s.get("grad_scale").asDouble();
            Tensor x = fx.upload(cpu, name, "x"), dy = fx.upload(cpu, name, "dy"), labels = fx.upload(cpu, name, "labels");
            Tensor y = cpu.allocate(x.shape()), dx = cpu.allocate(x.shape()), dLogits = cpu.allocate(x.shape());

            cpu.softmax(x, y, rows, classes);
            cpu.softmaxBackward(y, dy, dx, rows, classes);
            double loss = cpu.softmaxCrossEntropy(x, labels, dLogits, rows, classes, gradScale);

            assertClose(name + " softmax", fx.values(name, "y"), cpu.download(y), TOL);
            assertClose(name + " softmax backward", fx.values(name, "dx"), cpu.download(dx), TOL);
            assertClose(name + " loss", fx.values(name, "loss"), new float[] {(float) loss}, TOL);
            assertClose(name + " dLogits", fx.values(name, "dlogits"), cpu.download(dLogits), TOL);
        }));
    }

    @TestFactory
    Stream<DynamicTest> unaryForwardAndBackward() {
        Fixtures fx = Fixtures.load("elementwise");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            UnaryOp op = UnaryOp.valueOf(fx.settings(name).get("op").asText());
            Tensor x = fx.upload(cpu, name, "x"), dy = fx.upload(cpu, name, "dy");
            Tensor y = cpu.allocate(x.shape()), dx = cpu.allocate(x.shape());
            cpu.unary(op, x, y);
            cpu.unaryBackward(op, x, y, dy, dx);
            assertClose(name + " y", fx.values(name, "y"), cpu.download(y), TOL);
            assertClose(name + " dx", fx.values(name, "dx"), cpu.download(dx), TOL);
        }));
    }

    /** Three steps of each optimiser with fresh gradients; the parameter is compared after every step. */
    @TestFactory
    Stream<DynamicTest> optimizerSteps() {
        Fixtures fx = Fixtures.load("optimizers");
        return fx.cases().keySet().stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            JsonNode s = fx.settings(name);
            Tensor param = fx.upload(cpu, name, "param0");
            Tensor state1 = cpu.allocate(param.shape()), state2 = cpu.allocate(param.shape());
            float lr = (float) s.get("lr").asDouble(), wd = (float) s.get("weight_decay").asDouble();
            for (int t = 1; t <= s.get("steps").asInt(); t++) {
                Tensor grad = fx.upload(cpu, name, "grad" + t);
                if (name.startsWith("sgd")) {
                    cpu.sgdUpdate(param, grad, state1, lr, (float) s.get("momentum").asDouble(), wd, s.get("nesterov").asBoolean());
                } else {
                    cpu.adamUpdate(param, grad, state1, state2, lr, (float) s.get("beta1").asDouble(), (float) s.get("beta2").asDouble(),
                            (float) s.get("eps").asDouble(), wd, t);
                }
                assertClose(name + " param after step " + t, fx.values(name, "param" + t), cpu.download(param), TOL);
            }
            if (fx.has(name, "velocity")) assertClose(name + " velocity", fx.values(name, "velocity"), cpu.download(state1), TOL);
            if (fx.has(name, "m")) {
                assertClose(name + " m", fx.values(name, "m"), cpu.download(state1), TOL);
                assertClose(name + " v", fx.values(name, "v"), cpu.download(state2), TOL);
            }
        }));
    }
}
