package org.neurite.layer;

import org.neurite.tensor.Shape;

/**
 * A trainable (or fixed) tensor a layer owns, e.g. {@code weight [out, in]}. The engine names it
 * {@code <node>.<name>} ({@code c1.weight}) in checkpoints and summaries.
 *
 * @param decay whether weight decay applies (false for biases and norm scales by convention)
 * @param trainable false for constants such as fixed filter kernels (no gradient, no update)
 */
public record ParamDecl(String name, Shape shape, Initializer initializer, boolean decay, boolean trainable) {
    public static ParamDecl weight(String name, Shape shape, Initializer init) {
        return new ParamDecl(name, shape, init, true, true);
    }

    public static ParamDecl bias(String name, Shape shape, Initializer init) {
        return new ParamDecl(name, shape, init, false, true);
    }
}
