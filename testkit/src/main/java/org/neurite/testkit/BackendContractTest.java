package org.neurite.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.backend.CheckedBackend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.Gemm;
import org.neurite.backend.Matrix;
import org.neurite.backend.Pool2dGeometry;
import org.neurite.backend.Slice;
import org.neurite.backend.Strided;
import org.neurite.backend.UnaryOp;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The refusals every backend gives, word for word: one table of bad calls (a tensor of another
 * backend, wrong sizes, slices outside their tensor, overlapping outputs, out-of-range scalars,
 * and the indices only the data can tell are wrong) run against a backend as the runtime hands it
 * out ({@link CheckedBackend#wrap}). Extend it with the backend under test:
 * <pre>{@code
 * class MyBackendContractTest extends BackendContractTest {
 *     MyBackendContractTest() { super(MyBackend::new); }
 * }
 * }</pre>
 * The data-dependent refusals (a corrupt
 * max-pooling argmax, an embedding index that is not a row, a label that is not a class) come
 * from the backend itself and must leave the output untouched.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendContractTest {
    private final Supplier<Backend> factory;
    private Backend backend;
    private Backend other;

    /** @param factory makes the raw backend under test (it is wrapped here, as the runtime does) */
    protected BackendContractTest(Supplier<Backend> factory) {
        this.factory = factory;
    }

    @BeforeAll void open() {
        backend = CheckedBackend.wrap(factory.get());
        other = CheckedBackend.wrap(factory.get());   // a second instance: its tensors are foreign to the first
    }

    @AfterAll void close() {
        backend.close();
        other.close();
    }

    private record Case(String name, String message, Consumer<Backend> call) {}

    @TestFactory Stream<DynamicTest> refusals() {
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("a tensor of another backend", null, b -> {
            Tensor foreign = other.allocate(Shape.of(2, 2));
            b.unary(UnaryOp.RELU, foreign, t(b, 2, 2));
        }));
        cases.add(new Case("a null tensor", "x is null", b -> b.sumOfSquares(null)));
        cases.add(new Case("a convolution writing into its input", "conv2dForward: y must not be the same tensor as x", b -> {
            Conv2dGeometry g = new Conv2dGeometry(1, 2, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1);
            Tensor x = t(b, 1, 2, 3, 3);
            b.conv2dForward(g, x, t(b, 2, 2, 1, 1), null, x);
        }));
        cases.add(new Case("a fused convolution writing into its input", "conv2dForward: y must not be the same tensor as x", b -> {
            Conv2dGeometry g = new Conv2dGeometry(1, 2, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1);
            Tensor x = t(b, 1, 2, 3, 3);
            b.conv2dForward(g, x, t(b, 2, 2, 1, 1), null, UnaryOp.RELU, x);
        }));
        cases.add(new Case("a residual convolution writing into its residual", "conv2dResidualForward: y must not be the same tensor as residual",
                b -> {
                    Conv2dGeometry g = new Conv2dGeometry(1, 2, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1);
                    Tensor y = t(b, 1, 2, 3, 3);
                    b.conv2dResidualForward(g, t(b, 1, 2, 3, 3), t(b, 2, 2, 1, 1), null, y, UnaryOp.RELU, y);
                }));
        cases.add(new Case("a residual of the wrong size", "residual [1, 2, 3, 2] has 12 elements, expected 18", b -> {
            Conv2dGeometry g = new Conv2dGeometry(1, 2, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1);
            b.conv2dResidualForward(g, t(b, 1, 2, 3, 3), t(b, 2, 2, 1, 1), null, t(b, 1, 2, 3, 2), null, t(b, 1, 2, 3, 3));
        }));
        cases.add(new Case("a dense forward pass with a bias of the wrong size", "bias [4] has 4 elements, expected 3",
                b -> b.denseForward(t(b, 2, 5), t(b, 3, 5), t(b, 4), UnaryOp.RELU, t(b, 2, 3), 2, 5, 3)));
        cases.add(new Case("a residual sum of tensors of different sizes", "b [3] has 3 elements, expected 4",
                b -> b.addForward(t(b, 4), t(b, 3), UnaryOp.RELU, t(b, 4))));
        cases.add(new Case("a folded activation whose derivative needs its input",
                "denseBackwardData: the derivative of SOFTPLUS needs its input, not only its output (the layer's input)",
                b -> b.denseBackwardData(t(b, 2, 3), t(b, 3, 5), t(b, 2, 5), UnaryOp.SOFTPLUS, t(b, 2, 5), 2, 5, 3)));
        cases.add(new Case("upload past the end", "dst range [4, 7) is outside [0, 6)",
                b -> b.upload(new float[3], 0, Slice.of(t(b, 6), 4, 3))));
        cases.add(new Case("copy past the end", "src range [4, 7) is outside [0, 6)",
                b -> b.copy(Slice.of(t(b, 6), 4, 3), Slice.of(t(b, 3), 0, 3))));
        cases.add(new Case("element-wise slices of different lengths", "binary ADD: b has 3 elements, out has 4",
                b -> b.binary(BinaryOp.ADD, Slice.of(t(b, 4)), Slice.of(t(b, 3)), Slice.of(t(b, 4)))));
        cases.add(new Case("an output overlapping its input at another offset",
                "unary TANH: y [1, 5) overlaps x [0, 4) of the same tensor; use the same range or disjoint ones", b -> {
                    Tensor x = t(b, 8);
                    b.unary(UnaryOp.TANH, Slice.of(x, 0, 4), Slice.of(x, 1, 4));
                }));
        cases.add(new Case("unary backward without the tensor its derivative reads", "SIGMOID backward needs the forward output y",
                b -> b.unaryBackward(UnaryOp.SIGMOID, t(b, 3), null, t(b, 3), t(b, 3))));
        cases.add(new Case("a GEMM operand too small",
                "gemm: A [2 x 3, ld 3] x 1 from offset 0 (stride 0) reaches element 5 of a tensor of 5",
                b -> b.gemm(Gemm.of(2, 2, 3), 1f, Matrix.of(t(b, 5), 3), Matrix.of(t(b, 3, 2), 2), 0f, Matrix.of(t(b, 2, 2), 2))));
        cases.add(new Case("a GEMM leading dimension below the row length", "gemm: leading dimension of C is 1, must be >= 2",
                b -> b.gemm(Gemm.of(2, 2, 3), 1f, Matrix.of(t(b, 2, 3), 3), Matrix.of(t(b, 3, 2), 2), 0f, Matrix.of(t(b, 2, 2), 1))));
        cases.add(new Case("overlapping destination blocks",
                "copyBlocks: destination blocks of 3 floats 2 apart overlap; the stride must be >= the length",
                b -> b.copyBlocks(Strided.of(t(b, 9), 0, 3), Strided.of(t(b, 9), 0, 2), 3, 3)));
        cases.add(new Case("a convolution output of the wrong size", "y [1, 3, 5, 5] has 75 elements, expected 27", b -> {
            Conv2dGeometry g = new Conv2dGeometry(1, 1, 5, 5, 3, 3, 3, 1, 1, 0, 0, 1, 1, 1);
            b.conv2dForward(g, t(b, 1, 1, 5, 5), t(b, 3, 1, 3, 3), null, t(b, 1, 3, 5, 5));
        }));
        cases.add(new Case("pooling padding larger than half the kernel",
                "pooling padding 2x2 must be at most half the kernel 2x2", b -> {
                    Pool2dGeometry g = new Pool2dGeometry(1, 1, 4, 4, 2, 2, 2, 2, 2, 2, false, true);
                    b.avgPool2dForward(g, t(b, 1, 1, 4, 4), t(b, 1, 1, 4, 4));
                }));
        cases.add(new Case("a dropout probability above 1", "dropout probability must be in [0, 1], got 1.5",
                b -> b.dropoutForward(t(b, 4), t(b, 4), t(b, 4), 1.5f, 1L)));
        cases.add(new Case("nesterov without momentum", "nesterov SGD needs momentum > 0",
                b -> b.sgdUpdate(t(b, 4), t(b, 4), t(b, 4), 0.1f, 0f, 0f, true)));
        cases.add(new Case("an Adam step of 0", "Adam step is counted from 1, got 0",
                b -> b.adamUpdate(t(b, 4), t(b, 4), t(b, 4), t(b, 4), 0.1f, 0.9f, 0.999f, 1e-8f, 0f, 0)));
        cases.add(new Case("an AdamW step of 0", "Adam step is counted from 1, got 0",
                b -> b.adamwUpdate(t(b, 4), t(b, 4), t(b, 4), t(b, 4), 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 0)));
        cases.add(new Case("RMSprop momentum without a buffer", "RMSprop with momentum 0.9 needs a momentum buffer",
                b -> b.rmspropUpdate(t(b, 4), t(b, 4), t(b, 4), null, null, 0.01f, 0.99f, 1e-8f, 0f, 0.9f, false)));
        cases.add(new Case("centered RMSprop without a gradient average", "centered RMSprop needs a gradient-average tensor",
                b -> b.rmspropUpdate(t(b, 4), t(b, 4), t(b, 4), null, null, 0.01f, 0.99f, 1e-8f, 0f, 0f, true)));
        cases.add(new Case("an LRN k of 0", "LRN k must be > 0 (scale^-beta of a zero scale is infinite), got 0.0",
                b -> b.lrnForward(t(b, 1, 3, 2), t(b, 1, 3, 2), t(b, 1, 3, 2), 1, 3, 2, 3, 1e-4f, 0.75f, 0f)));
        cases.add(new Case("batch-norm training on one value per channel",
                "batch norm training needs more than one value per channel, got 1 x 1 (outer x inner)",
                b -> b.batchNormForward(t(b, 1, 2), t(b, 1, 2), t(b, 2), t(b, 2), t(b, 2), t(b, 2), t(b, 2), t(b, 2),
                        1, 2, 1, 1e-5f, 0.1f, true)));
        cases.add(new Case("a fused batch-norm training on one value per channel",
                "batch norm training needs more than one value per channel, got 1 x 1 (outer x inner)",
                b -> b.batchNormForward(t(b, 1, 2), t(b, 1, 2), t(b, 2), t(b, 2), t(b, 2), t(b, 2), t(b, 2), t(b, 2),
                        1, 2, 1, 1e-5f, 0.1f, true, UnaryOp.RELU)));
        cases.add(new Case("a batch-norm backward through an activation whose derivative needs its input",
                "batchNormBackward: the derivative of SOFTPLUS needs its input, not only its output (the normalised value)",
                b -> b.batchNormBackward(t(b, 2, 2), t(b, 2, 2), t(b, 2), t(b, 2), t(b, 2), UnaryOp.SOFTPLUS, t(b, 2, 2), t(b, 2, 2),
                        null, null, 2, 2, 1)));
        cases.add(new Case("a batch-norm backward writing dx over the activation's output",
                "batchNormBackward: dx must not be the same tensor as y", b -> {
                    Tensor y = t(b, 2, 2);
                    b.batchNormBackward(t(b, 2, 2), t(b, 2, 2), t(b, 2), t(b, 2), t(b, 2), UnaryOp.RELU, y, y, null, null, 2, 2, 1);
                }));
        cases.add(new Case("an LSTM cell whose h overlaps its gates",
                "lstmCellForward: h [0, 4) overlaps gates [0, 16) of the same tensor", b -> {
                    Tensor gates = t(b, 16);
                    b.lstmCellForward(Slice.of(gates), Slice.of(t(b, 4)), Slice.of(t(b, 4)), Slice.of(gates, 0, 4), 2, 2);
                }));
        cases.add(new Case("an LSTM step whose recurrent weights are too small for 4H rows",
                "gemm: wHh [8 x 2, ld 2] x 1 from offset 0 (stride 0) reaches element 15 of a tensor of 8",
                b -> b.lstmStepForward(Matrix.of(t(b, 4), 2), Matrix.of(t(b, 8), 2), Slice.of(t(b, 16)), Slice.of(t(b, 4)),
                        Slice.of(t(b, 4)), Slice.of(t(b, 4)), 2, 2)));
        cases.add(new Case("an LSTM step with a gate block of the wrong length", "gates slice has 12 elements, expected 16",
                b -> b.lstmStepForward(Matrix.of(t(b, 4), 2), Matrix.of(t(b, 16), 2), Slice.of(t(b, 12)), Slice.of(t(b, 4)),
                        Slice.of(t(b, 4)), Slice.of(t(b, 4)), 2, 2)));
        cases.add(new Case("an LSTM step writing h over the state it reads",
                "lstmStepForward: h [0, 4) overlaps hPrev [0, 4) of the same tensor", b -> {
                    Tensor state = t(b, 4);
                    b.lstmStepForward(Matrix.of(state, 2), Matrix.of(t(b, 16), 2), Slice.of(t(b, 16)), Slice.of(t(b, 4)),
                            Slice.of(t(b, 4)), Slice.of(state), 2, 2);
                }));
        cases.add(new Case("a GRU step writing h over the state it reads",
                "gruStepForward: h [0, 4) overlaps hPrev [0, 4) of the same tensor", b -> {
                    Tensor state = t(b, 4);
                    b.gruStepForward(Slice.of(state), Matrix.of(t(b, 12), 2), Slice.of(t(b, 12)), Slice.of(t(b, 12)), Slice.of(state),
                            Slice.of(t(b, 12)), 2, 2);
                }));
        cases.add(new Case("a GRU state slice of the wrong length", "hPrev slice has 3 elements, expected 4",
                b -> b.gruCellForward(Slice.of(t(b, 12)), Slice.of(t(b, 12)), Slice.of(t(b, 3)), Slice.of(t(b, 4)),
                        Slice.of(t(b, 12)), 2, 2)));
        cases.add(new Case("a squared norm into a slice of two floats", "out slice has 2 elements, expected 1",
                b -> b.sumOfSquares(List.of(t(b, 3), t(b, 2)), Slice.of(t(b, 4), 1, 2))));
        cases.add(new Case("a step control overlapping the norm it reads", "stepControl: control [1, 3) overlaps squaredNorm [2, 3) of the same tensor",
                b -> {
                    Tensor status = t(b, 5);
                    b.stepControl(Slice.of(status, 2, 1), Slice.of(status, 0, 1), 1f, Slice.of(status, 1, 2));
                }));
        cases.add(new Case("a step control of three floats", "control slice has 3 elements, expected 2",
                b -> b.stepControl(Slice.of(t(b, 1)), null, 0f, Slice.of(t(b, 3)))));
        cases.add(new Case("a correct count written into the logits", "countCorrect: out must not be the same tensor as logits", b -> {
            Tensor logits = t(b, 2, 3);
            b.countCorrect(logits, t(b, 2), 2, 3, Slice.of(logits, 0, 1));
        }));
        cases.add(new Case("a loss left in the labels", "softmaxCrossEntropy: loss must not be the same tensor as labels", b -> {
            Tensor labels = t(b, 2);
            b.softmaxCrossEntropy(t(b, 2, 3), labels, t(b, 2, 3), 2, 3, 1f, Slice.of(labels, 0, 1));
        }));
        cases.add(new Case("an update whose control lies in the weights it updates", "adamUpdate: control must not be the same tensor as param",
                b -> {
                    Tensor param = t(b, 4);
                    b.adamUpdate(param, t(b, 4), t(b, 4), t(b, 4), 0.1f, 0.9f, 0.999f, 1e-8f, 0f, 1, Slice.of(param, 0, 2));
                }));
        return cases.stream().map(c -> dynamicTest(c.name, () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.call.accept(backend));
            if (c.message != null) assertEquals(c.message, e.getMessage());
            else assertTrue(e.getMessage().startsWith("x [2, 2] belongs to backend '" + other.name() + "' ("), e.getMessage());
        }));
    }

    /** A tensor whose storage was released (device tensors; heap tensors ignore close and stay usable). */
    @TestFactory Stream<DynamicTest> closedTensors() {
        Tensor closed = t(backend, 2, 2);
        closed.close();
        if (!closed.isClosed()) return Stream.empty();
        return Stream.of(dynamicTest("a closed tensor", () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> backend.unary(UnaryOp.RELU, closed, t(backend, 2, 2)));
            assertEquals("x [2, 2] has been closed", e.getMessage());
        }));
    }

    /**
     * Refusals only the data can tell: the backend reads the indices and writes nothing. An
     * asynchronous backend may report them at its next synchronising call rather than the call
     * itself ({@link Backend#asynchronous}), so each call is followed by {@link Backend#synchronize}.
     */
    @TestFactory Stream<DynamicTest> dataRefusals() {
        return Stream.of(
                dynamicTest("a corrupt max-pooling argmax", () -> {
                    Pool2dGeometry g = new Pool2dGeometry(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, false, true);
                    Tensor argmax = t(backend, 1, 1, 2, 2), dx = t(backend, 1, 1, 4, 4), dy = t(backend, 1, 1, 2, 2);
                    backend.upload(new float[] {0, 2, 15, 10}, argmax);   // 15 (row 3, column 3) is outside output 2's window
                    backend.fill(dx, 7f);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                        backend.maxPool2dBackward(g, dy, argmax, dx);
                        backend.synchronize();
                    });
                    assertEquals("maxPool2dBackward: argmax 15.0 at output 2 is not an input position of that output's window (rows [2, 4),"
                            + " columns [0, 2) of a 4x4 plane, as index row * 4 + column); the index tensor is not the one maxPool2dForward wrote",
                            e.getMessage());
                    assertArrayEquals(filled(16, 7f), backend.download(dx), "dx must be untouched");
                }),
                dynamicTest("an embedding index that is not a row", () -> {
                    Tensor table = t(backend, 3, 2), indices = t(backend, 2), out = t(backend, 2, 2);
                    backend.upload(new float[] {1, 3}, indices);
                    backend.fill(out, 7f);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                        backend.gatherRows(table, indices, out, 2, 2);
                        backend.synchronize();
                    });
                    assertEquals("index 3.0 of row 1 is not a row of the table [0, 3)", e.getMessage());
                    assertArrayEquals(filled(4, 7f), backend.download(out), "out must be untouched");
                }),
                dynamicTest("a label that is not a class", () -> {
                    Tensor logits = t(backend, 2, 3), labels = t(backend, 2), dLogits = t(backend, 2, 3);
                    backend.upload(new float[] {0, 3}, labels);
                    backend.fill(dLogits, 7f);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> backend.softmaxCrossEntropy(logits, labels, dLogits, 2, 3, 1f));
                    assertEquals("label 3.0 of row 1 is not a class index in [0, 3)", e.getMessage());
                    assertArrayEquals(filled(6, 7f), backend.download(dLogits), "dLogits must be untouched");
                }),
                dynamicTest("a label that is not a class, the loss left on the device", () -> {
                    Tensor logits = t(backend, 2, 3), labels = t(backend, 2), dLogits = t(backend, 2, 3), loss = t(backend, 1);
                    backend.upload(new float[] {-1, 0}, labels);
                    backend.fill(dLogits, 7f);
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
                        backend.softmaxCrossEntropy(logits, labels, dLogits, 2, 3, 1f, Slice.of(loss));
                        backend.synchronize();
                    });
                    assertEquals("label -1.0 of row 0 is not a class index in [0, 3)", e.getMessage());
                    assertArrayEquals(filled(6, 7f), backend.download(dLogits), "dLogits must be untouched");
                }));
    }

    private static Tensor t(Backend b, int... dims) {
        return b.allocate(Shape.of(dims));
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }
}
