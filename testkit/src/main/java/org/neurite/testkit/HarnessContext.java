package org.neurite.testkit;

import java.util.ArrayList;
import java.util.List;
import org.neurite.backend.Backend;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * The {@link KernelContext} the test kit compiles a layer with: shapes with the batch dimension,
 * state tensors allocated on the backend under test and remembered so the harness can close
 * them. It stands in for the engine's compiled model, so a layer checked here uses exactly the
 * SPI it sees in a real model.
 */
final class HarnessContext implements KernelContext, AutoCloseable {
    private final Backend backend;
    private final LayerArgs args;
    private final int batch;
    private final List<Shape> inputShapes;
    private final Shape outputShape;
    private final List<Tensor> allocated = new ArrayList<>();

    HarnessContext(Backend backend, LayerArgs args, int batch, List<Shape> inputShapes, Shape outputShape) {
        this.backend = backend;
        this.args = args;
        this.batch = batch;
        this.inputShapes = List.copyOf(inputShapes);
        this.outputShape = outputShape;
    }

    @Override public Backend backend() { return backend; }

    @Override public String nodeName() { return "checked"; }

    @Override public int batch() { return batch; }

    @Override public LayerArgs args() { return args; }

    @Override public List<Shape> inputShapes() { return inputShapes; }

    @Override public Shape outputShape() { return outputShape; }

    @Override public Tensor allocate(Shape shape) {
        Tensor t = backend.allocate(shape);
        allocated.add(t);
        return t;
    }

    @Override public void close() {
        for (Tensor t : allocated) t.close();
        allocated.clear();
    }
}
