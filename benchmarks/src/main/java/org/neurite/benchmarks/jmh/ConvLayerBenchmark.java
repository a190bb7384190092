package org.neurite.benchmarks.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.neurite.backend.Backend;
import org.neurite.backend.Conv2dGeometry;
import org.neurite.backend.cpu.CpuBackend;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The convolution layers of LeNet-5 ({@code examples/lenet5.nn}) and of the Fashion-MNIST
 * "2 Conv+pooling" model ({@code examples/fashion_cnn.nn}) at batch 64 on the CPU backend:
 * forward, backward-data (dL/dx) and backward-filter (dL/dw and dL/dbias), each timed alone.
 * <pre>
 *   lenet5.c1       conv 6@5x5 pad 2 on [1, 28, 28]
 *   lenet5.c3       conv 16@5x5      on [6, 14, 14]
 *   fashion_cnn.c1  conv 32@5x5 pad 2 on [1, 28, 28]
 *   fashion_cnn.c2  conv 64@5x5 pad 2 on [32, 14, 14]
 * </pre>
 * (A first layer's backward-data is never run in training, since images need no gradient; it is
 * measured anyway so every layer has the three numbers.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:InlineSmallCode=10000"})
public class ConvLayerBenchmark {
    @Param({"lenet5.c1", "lenet5.c3", "fashion_cnn.c1", "fashion_cnn.c2"})
    public String layer;

    @Param("64")
    public int batch;

    @Param("2")
    public int threads;

    private Backend backend;
    private Conv2dGeometry g;
    private Tensor x, w, bias, y, dy, dx, dw, dbias;

    @Setup(Level.Trial)
    public void setUp() {
        g = switch (layer) {
            case "lenet5.c1" -> geometry(1, 28, 6, 2);
            case "lenet5.c3" -> geometry(6, 14, 16, 0);
            case "fashion_cnn.c1" -> geometry(1, 28, 32, 2);
            case "fashion_cnn.c2" -> geometry(32, 14, 64, 2);
            default -> throw new IllegalArgumentException("unknown layer " + layer);
        };
        backend = new CpuBackend(threads);
        Shape input = Shape.of(batch, g.inChannels(), g.height(), g.width());
        Shape output = Shape.of(batch, g.outChannels(), g.outHeight(), g.outWidth());
        Shape weight = Shape.of(g.outChannels(), g.inChannelsPerGroup(), g.kernelH(), g.kernelW());
        x = random(input, 1);
        w = random(weight, 2);
        bias = random(Shape.of(g.outChannels()), 3);
        dy = random(output, 4);
        y = backend.allocate(output);
        dx = backend.allocate(input);
        dw = backend.allocate(weight);
        dbias = backend.allocate(Shape.of(g.outChannels()));
    }

    /** A 5x5, stride-1 convolution of square images, as in both models. */
    private Conv2dGeometry geometry(int in, int size, int out, int pad) {
        return new Conv2dGeometry(batch, in, size, size, out, 5, 5, 1, 1, pad, pad, 1, 1, 1);
    }

    private Tensor random(Shape shape, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] values = new float[shape.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) (rng.nextDouble() - 0.5);
        Tensor t = backend.allocate(shape);
        backend.upload(values, t);
        return t;
    }

    @Benchmark
    public Tensor forward() {
        backend.conv2dForward(g, x, w, bias, y);
        return y;
    }

    @Benchmark
    public Tensor backwardData() {
        backend.conv2dBackwardData(g, dy, w, dx);
        return dx;
    }

    @Benchmark
    public Tensor backwardFilter() {
        backend.conv2dBackwardFilter(g, x, dy, dw, dbias);
        return dw;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.close();
    }
}
