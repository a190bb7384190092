package org.neurite.engine;

import org.neurite.backend.Backend;
import org.neurite.backend.BinaryOp;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.InferenceAffineLayer.AffineWriter;
import org.neurite.layer.LayerKernel;
import org.neurite.tensor.Tensor;

/**
 * The forward of an {@link org.neurite.layer.AffineFoldableLayer} (a convolution) with the
 * inference map of the {@link org.neurite.layer.InferenceAffineLayer} after it (a batch norm)
 * folded in. Before each forward it writes the map's coefficients from the second layer's
 * parameters, then
 * <pre>
 *   weight'[c, ...] = weight[c, ...] · scale[c]        (weight [C, K], K the rest of its shape)
 *   bias'[c]        = bias[c] · scale[c] + shift[c]    (shift[c] without a bias)
 * </pre>
 * and runs the producer's kernel (compiled with a bias) on weight' and bias': one convolution
 * instead of a convolution and a pass of the batch norm over the activation. The coefficients
 * are computed at every forward, so a model compiled once for evaluation follows the parameters
 * as training changes them (a few ops on [C] and one on the weight), except in
 * {@link CompiledModel#forwardOnSameParameters}, which keeps what the last forward folded (a
 * predictor's pieces of one call: the small ResNet's nine folds took 0.04 ms a piece). The products round
 * differently from the two layers run one after the other: the outputs agree to float rounding,
 * not to the bit.
 */
final class FoldedAffineKernel implements LayerKernel {
    private final LayerKernel producer;
    private final AffineWriter affine;
    /** [C]: the map's scale, and a workspace for bias · scale; [C, K] and [C]: the folded weight and bias the producer reads. */
    private final Tensor scale;
    private final Tensor scaledBias;
    private final Tensor foldedWeight;
    private final Tensor foldedBias;
    /** The producer's pass, with the folded weight and bias in place of its own. */
    private final FoldedPass foldedPass = new FoldedPass();
    /** The folded layer's pass (its parameters); set once every step is built. */
    private ForwardPass affinePass;
    /** Whether foldedWeight and foldedBias hold a fold (after the first forward). */
    private boolean folded;
    /** Set by {@link CompiledModel#forwardOnSameParameters} for one forward: keep the last fold. */
    boolean keepFold;

    FoldedAffineKernel(LayerKernel producer, AffineWriter affine, Tensor scale, Tensor scaledBias, Tensor foldedWeight,
                       Tensor foldedBias) {
        this.producer = producer;
        this.affine = affine;
        this.scale = scale;
        this.scaledBias = scaledBias;
        this.foldedWeight = foldedWeight;
        this.foldedBias = foldedBias;
    }

    /** The pass of the folded layer's node, whose parameters the coefficients come from. */
    void readAffineFrom(ForwardPass pass) {
        this.affinePass = pass;
    }

    @Override public void forward(ForwardPass pass) {
        if (!(keepFold && folded)) fold(pass);
        foldedPass.outer = pass;
        producer.forward(foldedPass);
    }

    /** weight' and bias' from the parameters as they are now. */
    private void fold(ForwardPass pass) {
        Backend b = pass.backend();
        affine.write(affinePass, scale, foldedBias);   // the shift goes straight into bias'
        Tensor weight = pass.param("weight");
        int channels = scale.size();
        b.channelBroadcast(BinaryOp.MUL, weight, scale, foldedWeight, 1, channels, weight.size() / channels);
        Tensor bias = pass.param("bias");
        if (bias != null) {
            b.binary(BinaryOp.MUL, bias, scale, scaledBias);
            b.binary(BinaryOp.ADD, foldedBias, scaledBias, foldedBias);
        }
        folded = true;
    }

    @Override public void backward(BackwardPass pass) {
        throw new IllegalStateException("a batch norm folded into the layer before it is for inference only: no backward");
    }

    /** Everything from the producer's own pass except its weight and bias. */
    private final class FoldedPass implements ForwardPass {
        ForwardPass outer;

        @Override public Backend backend() { return outer.backend(); }
        @Override public Tensor input(int index) { return outer.input(index); }
        @Override public Tensor output() { return outer.output(); }
        @Override public Tensor param(String name) {
            return switch (name) {
                case "weight" -> foldedWeight;
                case "bias" -> foldedBias;
                default -> outer.param(name);
            };
        }
        @Override public boolean training() { return outer.training(); }
        @Override public long stepSeed() { return outer.stepSeed(); }
    }
}
