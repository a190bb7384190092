package org.neurite.plugins.recurrent;

import java.util.ArrayList;
import java.util.List;
import org.neurite.layer.ArgumentException;
import org.neurite.layer.Initializer;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSpec;
import org.neurite.layer.ParamType;
import org.neurite.layer.ShapeException;
import org.neurite.tensor.Shape;

/**
 * What {@code rnn}, {@code lstm} and {@code gru} share: the arguments (hidden size, stacked
 * layers, bidirectional, dropout between layers, whole sequence or final state, bias), shape
 * inference, PyTorch's parameter names, layouts and initialisation, FLOPs, and compilation into a
 * {@link StackedRecurrence} of per-direction cells. Input per sample is [T, I] (PyTorch's
 * {@code batch_first=True} without the batch); the output is [T, D·H] with
 * {@code sequences=true}, or [D·H] with {@code sequences=false}: the final hidden state of each
 * direction side by side, PyTorch's {@code h_n} of the last layer (the forward direction's h at
 * t = T-1, the reverse direction's at t = 0), which for a bidirectional layer is not
 * {@code output[:, -1]}.
 *
 * <p>With {@code mask_zero=true} each sample ends after its last non-zero input row
 * ({@link PaddingMask}): outputs past the end are zero, the forward direction's final state is
 * the one at the sample's last step, and the reverse direction starts there — what PyTorch
 * computes for a {@code pack_padded_sequence} with those lengths.
 *
 * @param <W> the backward workspace of the cell, allocated once and shared by every direction of
 *     every layer: backward finishes one direction before it starts the next
 */
abstract class RecurrentLayer<W> implements LayerType {
    static final ParamSpec HIDDEN = ParamSpec.required("hidden", ParamType.INT, "Hidden state size H per direction.")
            .range(1, Double.POSITIVE_INFINITY);
    static final ParamSpec LAYERS = ParamSpec.optional("layers", ParamType.INT, 1,
            "Stacked layers; layer k+1 reads the hidden states of layer k.").range(1, Double.POSITIVE_INFINITY);
    static final ParamSpec BIDIRECTIONAL = ParamSpec.optional("bidirectional", ParamType.BOOL, false,
            "Add a second direction reading the sequence backwards; outputs are the two side by side (2H).");
    static final ParamSpec DROPOUT = ParamSpec.optional("dropout", ParamType.FLOAT, 0.0,
            "Dropout probability on the outputs of every layer but the last, while training, in [0, 1) "
                    + "(no effect with one layer, as in PyTorch).").range(0, 1);
    static final ParamSpec SEQUENCES = ParamSpec.optional("sequences", ParamType.BOOL, true,
            "true: output every step [time, D*H]; false: the final hidden state of each direction [D*H] (PyTorch's h_n).");
    static final ParamSpec BIAS = ParamSpec.optional("bias", ParamType.BOOL, true,
            "Learn the biases bias_ih and bias_hh.");
    static final ParamSpec MASK_ZERO = ParamSpec.optional("mask_zero", ParamType.BOOL, false,
            "Variable-length sequences padded at the end with all-zero rows: a sample ends after its last non-zero "
                    + "input row; past it the state is carried unchanged and outputs are zero (PyTorch's pack_padded_sequence).");

    /** How {@code bias_ih} starts: PyTorch's uniform initialisation unless a cell says otherwise. */
    Initializer inputBiasInitializer(LayerArgs args, Initializer uniform) {
        return uniform;
    }

    /** Gate blocks per step: 1 (RNN), 3 (GRU: r, z, n), 4 (LSTM: i, f, g, o). */
    abstract int gates();

    /** The cell's backward workspace for these sizes, from the context. */
    abstract W workspace(KernelContext context, RecurrentGeometry g);

    /** One direction of one layer, compiled; {@code mask} is null unless {@code mask_zero=true}. */
    abstract RecurrentDirection direction(KernelContext context, RecurrentGeometry g, int layer, boolean reverse, W workspace,
                                          PaddingMask mask);

    /** Checks of arguments beyond the schema (RNN's nonlinearity); nothing by default. */
    void checkArguments(LayerArgs args) {}

    @Override public Shape outputShape(LayerArgs args, List<Shape> inputs) {
        Shape in = sequence(inputs);
        checkArguments(args);
        // The schema range is inclusive; dropout = 1 would zero every activation and divide by zero.
        if (args.getDouble("dropout") >= 1)
            throw new ArgumentException("dropout", -1, "parameter 'dropout' must be in [0, 1), got 1");
        int width = args.getInt("hidden") * directions(args);
        return args.getBool("sequences") ? Shape.of(in.dim(0), width) : Shape.of(width);
    }

    /** The per-sample input [T, I], refusing anything else. */
    static Shape sequence(List<Shape> inputs) {
        Shape in = inputs.get(0);
        if (in.rank() != 2) throw new ShapeException("expects [time, features] per sample, got " + in);
        if (in.dim(0) == 0 || in.dim(1) == 0) throw new ShapeException("expects a non-empty sequence, got " + in);
        return in;
    }

    static int directions(LayerArgs args) {
        return args.getBool("bidirectional") ? 2 : 1;
    }

    /**
     * PyTorch's parameters, in its {@code state_dict} order: for each layer k, for each direction,
     * {@code weight_ih_lk [G·H, I_k]}, {@code weight_hh_lk [G·H, H]}, {@code bias_ih_lk [G·H]},
     * {@code bias_hh_lk [G·H]} ({@code _reverse} for the second direction), where I_0 is the input
     * size and I_k = D·H above. All start U(-1/√H, 1/√H), PyTorch's initialisation.
     */
    @Override public List<ParamDecl> parameters(LayerArgs args, List<Shape> inputs) {
        int input = sequence(inputs).dim(1);
        int hidden = args.getInt("hidden");
        int directions = directions(args);
        int gateWidth = gates() * hidden;
        Initializer init = Initializer.uniform(1.0 / Math.sqrt(hidden));
        List<ParamDecl> params = new ArrayList<>();
        for (int layer = 0; layer < args.getInt("layers"); layer++) {
            int layerInput = layer == 0 ? input : hidden * directions;
            for (int d = 0; d < directions; d++) {
                String suffix = RecurrentDirection.parameterSuffix(layer, d == 1);
                params.add(ParamDecl.weight("weight_ih" + suffix, Shape.of(gateWidth, layerInput), init));
                params.add(ParamDecl.weight("weight_hh" + suffix, Shape.of(gateWidth, hidden), init));
                if (args.getBool("bias")) {
                    params.add(ParamDecl.bias("bias_ih" + suffix, Shape.of(gateWidth), inputBiasInitializer(args, init)));
                    params.add(ParamDecl.bias("bias_hh" + suffix, Shape.of(gateWidth), init));
                }
            }
        }
        return params;
    }

    /** The two projections' multiply-adds, 2·G·H·(I_k + H) per step, layer and direction; the cell's element-wise work is not counted. */
    @Override public long flops(LayerArgs args, List<Shape> inputs, Shape output) {
        Shape in = sequence(inputs);
        long hidden = args.getInt("hidden");
        int directions = directions(args);
        long total = 0;
        for (int layer = 0; layer < args.getInt("layers"); layer++) {
            long layerInput = layer == 0 ? in.dim(1) : hidden * directions;
            total += directions * 2L * gates() * hidden * (layerInput + hidden) * in.dim(0);
        }
        return total;
    }

    @Override public LayerKernel compile(KernelContext context) {
        RecurrentGeometry g = RecurrentGeometry.of(context);
        W workspace = workspace(context, g);
        // One mask for the whole stack: every layer and direction sees the lengths of the input.
        PaddingMask mask = context.args().getBool("mask_zero") ? new PaddingMask(context, g) : null;
        RecurrentDirection[][] stack = new RecurrentDirection[g.layers()][g.directions()];
        for (int layer = 0; layer < g.layers(); layer++) {
            for (int d = 0; d < g.directions(); d++) stack[layer][d] = direction(context, g, layer, d == 1, workspace, mask);
        }
        return new StackedRecurrence(context, g, stack, mask);
    }
}
