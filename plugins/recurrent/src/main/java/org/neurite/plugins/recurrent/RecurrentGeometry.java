package org.neurite.plugins.recurrent;

import org.neurite.layer.KernelContext;
import org.neurite.tensor.Shape;

/**
 * The sizes a compiled recurrent stack works with: batch B, time T, input features I of the
 * first layer, hidden size H, stacked layers L and directions D (1, or 2 when bidirectional).
 * Layer 0 reads I features per step; every later layer reads the D·H features of the layer
 * below, as PyTorch's {@code weight_ih_l1 [gates·H, D·H]} says.
 */
record RecurrentGeometry(int batch, int time, int input, int hidden, int layers, int directions) {

    /** From a compiled context: input [B, T, I] and the stack's arguments. */
    static RecurrentGeometry of(KernelContext context) {
        Shape x = context.inputShapes().get(0);
        return new RecurrentGeometry(context.batch(), x.dim(1), x.dim(2), context.args().getInt("hidden"),
                context.args().getInt("layers"), context.args().getBool("bidirectional") ? 2 : 1);
    }

    /** Features per step read by {@code layer}: I for the first, D·H above it. */
    int layerInput(int layer) {
        return layer == 0 ? input : hidden * directions;
    }

    /** Features per step of a layer's output, the directions side by side: D·H. */
    int outputWidth() {
        return hidden * directions;
    }

    /** Rows of a time-major [T, B, ·] buffer viewed as a matrix: T·B. */
    int rows() {
        return time * batch;
    }
}
