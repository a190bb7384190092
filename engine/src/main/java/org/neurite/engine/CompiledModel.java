package org.neurite.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.neurite.backend.Backend;
import org.neurite.backend.CounterRandom;
import org.neurite.backend.OutOfMemoryException;
import org.neurite.backend.UnaryOp;
import org.neurite.graph.GraphInput;
import org.neurite.graph.Node;
import org.neurite.graph.ParamInfo;
import org.neurite.graph.TypedGraph;
import org.neurite.layer.ActivationGradientLayer;
import org.neurite.layer.AffineFoldableLayer;
import org.neurite.layer.ActivationLayer;
import org.neurite.layer.BackwardPass;
import org.neurite.layer.EpilogueLayer;
import org.neurite.layer.ForwardPass;
import org.neurite.layer.InferenceAffineLayer;
import org.neurite.layer.InferenceAffineLayer.AffineWriter;
import org.neurite.layer.KernelContext;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerKernel;
import org.neurite.layer.LayerType;
import org.neurite.layer.ResidualSumLayer;
import org.neurite.tensor.Shape;
import org.neurite.tensor.Tensor;

/**
 * A typed graph compiled for one (batch size, backend): every activation, gradient and layer
 * state buffer is allocated here, once. {@link #forward} and {@link #backward} then run the
 * layers' kernels in topological (reverse) order without allocating.
 *
 * <p>Gradients: a value read by one node gets one gradient buffer that the consumer writes.
 * A value read by several nodes (a skip connection) gets one buffer per reading edge; they are
 * summed into the value's gradient before its producer runs backward. Values that no trainable
 * parameter depends on get no gradient at all (unless input gradients are requested).
 * Activation gradients of one shape whose lives in backward do not meet share a buffer
 * ({@link BufferSharing}), except the outputs' (the loss writes them before backward)
 * and the graph inputs' (read after it); so do, compiled for inference with fusion on, the node
 * outputs whose lives in forward do not meet, except the graph outputs. {@code
 * -D}{@value #BUFFER_SHARING_PROPERTY}{@code =false} gives every tensor its own. So a layer's
 * backward must write every element of the gradients it is given, and no layer keeps a reference
 * to its output or gradients between calls.
 *
 * <p>Fusion: a dense or convolution node ({@link EpilogueLayer}) whose output is read by one
 * activation node alone ({@link ActivationLayer} whose gradient needs only its output: relu,
 * sigmoid, tanh), and is neither a graph output nor kept for inspection, runs with the activation
 * in its epilogue and writes straight into the activation's buffer: its pre-activation value gets
 * no buffer, and the activation's step only applies the activation's derivative (from its output)
 * in backward, before the producer's own backward; a producer whose layer applies it itself
 * ({@link EpilogueLayer#appliesActivationBackward()}: batch norm, add) reads the activation's
 * gradient directly, and the activation's step runs nothing (the pre-activation value has no
 * gradient buffer). An activation read by a max pooling or a dense
 * layer alone ({@link ActivationGradientLayer}) has its backward folded into the reader's: the
 * reader writes the gradient of the activation's input, and the activation's output gets no
 * gradient buffer. On a backend that runs the defaults (the CPU backend) the results are the same
 * bits either way. {@code -D}{@value #FUSION_PROPERTY}{@code =false} turns both off.
 */
public final class CompiledModel implements AutoCloseable {
    private final TypedGraph graph;
    private final Backend backend;
    private final int batch;
    private final ParameterStore params;
    private final Map<String, Tensor> activations = new LinkedHashMap<>();
    private final Map<String, Tensor> gradients = new HashMap<>();
    private final List<Tensor> owned = new ArrayList<>();
    private final List<Step> steps = new ArrayList<>();
    /** Inference: the kernels of the convolutions with a batch norm folded in ({@link #forwardOnSameParameters}). */
    private final List<FoldedAffineKernel> foldedKernels = new ArrayList<>();

    /** The system property that gives every activation gradient and node output its own buffer ({@code false}); sharing is on by default. */
    public static final String BUFFER_SHARING_PROPERTY = "neurite.buffersharing";
    /**
     * The tensors that may share buffers, as placeholders (shape, no storage) until
     * {@link #placeShared} has seen their lives and allocated the buffers they share: in training
     * the activation gradients, in a fused inference compile the node outputs; empty otherwise,
     * and after that.
     */
    private final List<Placeholder> placeholders = new ArrayList<>();
    /** Whether {@value #BUFFER_SHARING_PROPERTY} left sharing on when this model was compiled. */
    private final boolean shareBuffers;

    /** The system property that turns the fusions off ({@code false}); on by default. */
    public static final String FUSION_PROPERTY = "neurite.fusion";
    /** Whether activations may be fused into the epilogue of the layer before them. */
    private final boolean fuse;
    /** Producers whose output was fused away, and the activation node that took their place. */
    private final Map<String, String> fusedInto = new HashMap<>();
    /** Activations whose backward runs inside their reader's, and that reader. */
    private final Map<String, String> foldedInto = new HashMap<>();
    /**
     * Fused producers that apply their activation's backward themselves
     * ({@link EpilogueLayer#appliesActivationBackward()}), and the activation whose gradient their
     * backward reads as its gradOutput; their own value gets no gradient buffer.
     */
    private final Map<String, String> gradientOf = new HashMap<>();
    /**
     * Inference only: the layers folded into the weights of the layer before them (a batch norm
     * into its convolution, {@link InferenceAffineLayer} into {@link AffineFoldableLayer}), by
     * folded layer name, and that producer.
     */
    private final Map<String, String> affineFoldedInto = new HashMap<>();
    /**
     * Inference only: the two-term sums folded into the producer of one of their terms, which adds
     * the other as a residual ({@link AffineFoldableLayer#compileWithBiasAndResidual}), by sum name,
     * and that producer.
     */
    private final Map<String, String> residualFoldedInto = new HashMap<>();

    /** The system property that turns the folding of residual sums off ({@code false}); on by default, under {@link #FUSION_PROPERTY}. */
    public static final String RESIDUAL_FOLDING_PROPERTY = "neurite.fusion.residual";

    /** A sum folded into the producer of one of its terms: the sum's node and its other term, which the producer adds. */
    private record ResidualFold(Node sum, String residual) {}

    /** One node's compiled kernel and the tensors its passes see. */
    private final class Step implements BackwardPass {
        final Node node;
        final int index;
        final LayerKernel kernel;
        final Tensor[] inputs;
        Tensor output; // set once more by placeShared, before any pass runs
        final Tensor[] gradInputs;      // null entries: no gradient wanted for that input
        final Map<String, Tensor> paramValues = new HashMap<>();
        final Map<String, Tensor> paramGrads = new HashMap<>();
        final boolean needsBackward;
        boolean training;
        long seed;

        Step(Node node, int index, LayerKernel kernel, Tensor[] inputs, Tensor output, Tensor[] gradInputs, boolean needsBackward) {
            this.node = node;
            this.index = index;
            this.kernel = kernel;
            this.inputs = inputs;
            this.output = output;
            this.gradInputs = gradInputs;
            this.needsBackward = needsBackward;
        }

        @Override public Backend backend() { return backend; }
        @Override public Tensor input(int i) { return inputs[i]; }
        @Override public Tensor output() { return output; }
        @Override public Tensor param(String name) { return paramValues.get(name); }
        @Override public boolean training() { return training; }
        @Override public long stepSeed() { return seed; }
        @Override public Tensor gradOutput() { return gradients.get(gradientOf.getOrDefault(node.name(), node.name())); }
        @Override public Tensor gradInput(int i) { return gradInputs[i]; }
        @Override public Tensor gradParam(String name) { return paramGrads.get(name); }
    }

    /** Sums of per-edge gradients into a value's gradient, run before the value's producer. */
    private final Map<String, List<Tensor>> fanInGradients = new HashMap<>();

    /** What a compiled model is for: which gradient buffers it needs. */
    enum Purpose {
        /** forward and backward; gradients of every value a trainable parameter depends on */
        TRAINING,
        /** as TRAINING, and gradients with respect to the graph inputs */
        INPUT_GRADIENTS,
        /** forward only: no activation or parameter gradients (the output's keeps a loss computable) */
        INFERENCE
    }

    private final Purpose purpose;

    /** What the tensors this model owns hold, for the memory planner's breakdown. */
    enum Held {
        /** graph inputs and node outputs */
        ACTIVATIONS,
        /** gradients of activations, including one buffer per reading edge of a value read several times */
        ACTIVATION_GRADIENTS,
        /** what layers keep between passes through {@link KernelContext#allocate} (pooling indices, masks, recurrent states) */
        LAYER_STATE
    }

    /** Bytes owned, by {@link Held} ordinal. */
    private final long[] heldBytes = new long[Held.values().length];
    /**
     * The first tensor of each {@link Held} kind with more than 2^31-1 elements, which no backend
     * holds ("c1 [64, 100000, 28, 28]"), or null.
     */
    private final String[] firstTooLarge = new String[Held.values().length];
    /** Compiled on a planning backend only to be counted ({@link #measure}); never run. */
    private final boolean measuring;
    /** Measuring: what a layer found too large to size while compiling, or null. */
    private String layerTooLarge;

    private CompiledModel(TypedGraph graph, Backend backend, int batch, ParameterStore params, Purpose purpose) {
        this(graph, backend, batch, params, purpose, false, fusionEnabled());
    }

    /**
     * @param measuring whether this compile only counts what it allocates ({@link #measure}); a real
     *     one first refuses a batch the backend's memory cannot hold
     * @param fuse whether activations may be fused into their producers (off: every value keeps its buffer)
     */
    private CompiledModel(TypedGraph graph, Backend backend, int batch, ParameterStore params, Purpose purpose, boolean measuring,
                          boolean fuse) {
        this.measuring = measuring;
        this.fuse = fuse;
        if (!measuring) checkMemory(graph, backend, batch, params, purpose, fuse);
        this.graph = graph;
        this.backend = backend;
        this.batch = batch;
        this.params = params;
        this.purpose = purpose;
        this.shareBuffers = bufferSharingEnabled();
        try {
            allocateSteps(purpose);
            placeShared();
        } catch (OutOfMemoryException e) {
            close(); // what was allocated before the failure goes back to the backend
            throw e;
        }
    }

    /** Whether {@value #BUFFER_SHARING_PROPERTY} leaves buffer sharing on (anything but {@code false}). */
    static boolean bufferSharingEnabled() { return switchedOn(BUFFER_SHARING_PROPERTY); }

    /** Whether {@value #FUSION_PROPERTY} leaves fusion on (anything but {@code false}). */
    static boolean fusionEnabled() { return switchedOn(FUSION_PROPERTY); }

    /** Whether the system property {@code name} leaves its switch on: unset, or anything but {@code false}. */
    private static boolean switchedOn(String name) {
        return !"false".equalsIgnoreCase(System.getProperty(name, "true").trim());
    }

    /**
     * The activation nodes to fuse into their producer's epilogue, by producer name: those whose op
     * needs only its output for its gradient, reading an {@link EpilogueLayer} node that nothing
     * else reads and that is not a graph output.
     */
    private Map<String, Node> fusions(Map<String, Integer> readers) {
        if (!fuse) return new HashMap<>();
        return soleReaders(readers, n -> graph.type(n.name()) instanceof ActivationLayer a && a.activation().derivativeFromOutputAlone(),
                EpilogueLayer.class);
    }

    /**
     * The nodes that {@code accepts} and that alone read a node of {@code producerType}, by
     * producer name: each reads one input, a node (not a graph input) that nothing else reads, that
     * is not a graph output, and whose shape is the reader's.
     */
    private Map<String, Node> soleReaders(Map<String, Integer> readers, Predicate<Node> accepts, Class<? extends LayerType> producerType) {
        Map<String, Node> byProducer = new HashMap<>();
        Set<String> outputs = Set.copyOf(graph.graph().outputs());
        Set<String> nodes = new HashSet<>();
        for (Node n : graph.graph().nodes()) nodes.add(n.name());
        for (Node n : graph.graph().nodes()) {
            if (n.inputs().size() != 1 || !accepts.test(n)) continue;
            String producer = n.inputs().get(0);
            if (nodes.contains(producer) && producerType.isInstance(graph.type(producer)) && readers.get(producer) == 1
                    && !outputs.contains(producer) && graph.shape(producer).equals(graph.shape(n.name()))) {
                byProducer.put(producer, n);
            }
        }
        return byProducer;
    }

    /**
     * The activation nodes whose backward folds into the backward of their only reader, by
     * activation name: an {@link ActivationGradientLayer} (max pooling, dense) reading nothing
     * else, the activation's gradient needing only its output, which is not a graph output.
     */
    private Map<String, Node> foldedBackwards(Map<String, Integer> readers) {
        Map<String, Node> byActivation = new HashMap<>();
        if (!fuse) return byActivation;
        Set<String> outputs = Set.copyOf(graph.graph().outputs());
        Set<String> activationNodes = new HashSet<>();
        for (Node n : graph.graph().nodes()) {
            if (graph.type(n.name()) instanceof ActivationLayer a && a.activation().derivativeFromOutputAlone() && n.inputs().size() == 1
                    && readers.getOrDefault(n.name(), 0) == 1 && !outputs.contains(n.name())) activationNodes.add(n.name());
        }
        for (Node n : graph.graph().nodes()) {
            boolean readsOneActivation = n.inputs().size() == 1 && activationNodes.contains(n.inputs().get(0));
            if (readsOneActivation && graph.type(n.name()) instanceof ActivationGradientLayer) byActivation.put(n.inputs().get(0), n);
        }
        return byActivation;
    }

    /**
     * Compiling for inference: the {@link InferenceAffineLayer} nodes (batch norms) to fold into the
     * {@link AffineFoldableLayer} (convolution) whose output they alone read, by producer name; the
     * producer is not a graph output and has the folded layer's shape.
     */
    private Map<String, Node> affineFolds(Map<String, Integer> readers) {
        if (!fuse || purpose != Purpose.INFERENCE) return new HashMap<>();
        return soleReaders(readers, n -> graph.type(n.name()) instanceof InferenceAffineLayer, AffineFoldableLayer.class);
    }

    /**
     * Compiling for inference: the two-term {@link ResidualSumLayer} nodes (a residual block's
     * {@code add}) to fold into the producer of one term, by producer name. The term is a folded
     * affine layer's value (a batch norm folded into its convolution) that the sum alone reads and
     * that is no graph output, its producer {@linkplain AffineFoldableLayer#addsResidual adds a
     * residual}, and the other term is computed before that producer runs (a graph input or an
     * earlier node), so the producer can read it; of two such terms, the one computed last. Neither
     * the sum nor the activation fused after it is a graph output.
     */
    private Map<String, ResidualFold> residualFolds(Map<String, Integer> readers, Map<String, Node> affineFolds, Map<String, Node> fusions) {
        Map<String, ResidualFold> folds = new HashMap<>();
        if (!fuse || purpose != Purpose.INFERENCE || !switchedOn(RESIDUAL_FOLDING_PROPERTY)) return folds;
        List<Node> nodes = graph.graph().nodes();
        Map<String, Integer> position = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) position.put(nodes.get(i).name(), i);
        Map<String, String> producerOf = new HashMap<>(); // folded affine node -> the producer it is folded into
        for (var f : affineFolds.entrySet()) producerOf.put(f.getValue().name(), f.getKey());
        Set<String> outputs = Set.copyOf(graph.graph().outputs());
        for (Node sum : nodes) {
            if (!(graph.type(sum.name()) instanceof ResidualSumLayer) || sum.inputs().size() != 2 || outputs.contains(sum.name())) continue;
            Node after = fusions.get(sum.name());
            if (after != null && outputs.contains(after.name())) continue;
            String producer = null, residual = null;
            int latest = -1;
            for (int i = 0; i < 2; i++) {
                String term = sum.inputs().get(i), p = producerOf.get(term);
                if (p == null || readers.get(term) != 1 || outputs.contains(term) || folds.containsKey(p)) continue;
                if (!(graph.type(p) instanceof AffineFoldableLayer a) || !a.addsResidual()) continue;
                if (position.get(p) > latest) {
                    latest = position.get(p);
                    producer = p;
                    residual = sum.inputs().get(1 - i);
                }
            }
            if (producer == null) continue;
            Integer residualAt = position.get(residual); // null: a graph input
            if (residualAt != null && residualAt >= latest) continue; // computed after the producer: it cannot read it
            folds.put(producer, new ResidualFold(sum, residual));
        }
        return folds;
    }

    /** Activations, gradients and the steps with their kernels, for {@link #batch} samples. */
    private void allocateSteps(Purpose purpose) {
        for (GraphInput in : graph.graph().inputs()) activations.put(in.name(), own(in.shape().withBatch(batch), Held.ACTIVATIONS, in.name()));
        Set<String> requiresGrad = purpose == Purpose.INFERENCE ? Set.of() : requiresGrad(purpose == Purpose.INPUT_GRADIENTS);
        Map<String, Integer> readers = new HashMap<>();
        for (Node n : graph.graph().nodes()) for (String in : n.inputs()) readers.merge(in, 1, Integer::sum);
        Map<String, Node> fusions = fusions(readers);
        Set<String> fusedActivations = new HashSet<>();
        for (Node a : fusions.values()) fusedActivations.add(a.name());
        Map<String, Node> folded = foldedBackwards(readers);
        for (var f : fusions.entrySet()) {
            // A producer that applies its activation's derivative itself reads the activation's gradient; the derivative
            // must be applied once, so the activation's reader (a max pooling, a dense layer) no longer folds it in.
            if (((EpilogueLayer) graph.type(f.getKey())).appliesActivationBackward()) {
                gradientOf.put(f.getKey(), f.getValue().name());
                folded.remove(f.getValue().name());
            }
        }
        Set<String> foldingReaders = new HashSet<>();
        for (Node r : folded.values()) foldingReaders.add(r.name());
        // Inference: batch norms folded into the convolution before them; their steps run nothing.
        Map<String, Node> affineFolds = affineFolds(readers);
        Map<String, FoldedAffineKernel> foldedAffineKernels = new HashMap<>();
        for (var f : affineFolds.entrySet()) affineFoldedInto.put(f.getValue().name(), f.getKey());
        // Inference: residual sums folded into the convolution producing their last term; their steps run nothing.
        Map<String, ResidualFold> residualFolds = residualFolds(readers, affineFolds, fusions);
        for (var f : residualFolds.entrySet()) residualFoldedInto.put(f.getValue().sum().name(), f.getKey());
        Map<String, Step> stepsByName = new HashMap<>();
        for (String v : requiresGrad) {
            // An activation whose backward folds into its reader's gets no gradient: the reader writes its input's.
            if (folded.containsKey(v)) continue;
            // Nor does a producer that takes its activation's gradient and applies the derivative itself.
            if (gradientOf.containsKey(v)) continue;
            Shape s = graph.shape(v).withBatch(batch);
            gradients.put(v, gradientBuffer(s, "the gradient of " + v));
        }
        for (String out : graph.graph().outputs()) {
            gradients.computeIfAbsent(out, v -> gradientBuffer(graph.shape(v).withBatch(batch), "the gradient of " + v));
        }
        int index = 0;
        for (Node node : graph.graph().nodes()) {
            Node activation = fusions.get(node.name());
            Tensor output;
            Node foldedAffine = affineFolds.get(node.name());
            ResidualFold residualFold = residualFolds.get(node.name());
            if (fusedActivations.contains(node.name())) {
                output = activations.get(node.name());     // allocated with its producer
            } else if (affineFoldedInto.containsKey(node.name()) || residualFoldedInto.containsKey(node.name())) {
                output = activations.get(node.name());     // allocated with the producer it is folded into
                if (activation != null) fusedInto.put(node.name(), activation.name());
            } else if (foldedAffine != null) {
                // The producer writes the folded layer's output (or that of the activation fused after it); with a
                // residual sum folded in too, the sum's (or its activation's), and the folded layer's value is not stored.
                Node after = fusions.get(foldedAffine.name());
                String last = after == null ? foldedAffine.name() : after.name();
                Node sumAfter = residualFold == null ? null : fusions.get(residualFold.sum().name());
                if (residualFold != null) {
                    last = sumAfter == null ? residualFold.sum().name() : sumAfter.name();
                    fusedInto.put(foldedAffine.name(), last);
                }
                output = activationBuffer(graph.shape(last).withBatch(batch), node.name());
                activations.put(foldedAffine.name(), output);
                if (after != null) activations.put(after.name(), output);
                if (residualFold != null) activations.put(residualFold.sum().name(), output);
                if (sumAfter != null) activations.put(sumAfter.name(), output);
                fusedInto.put(node.name(), last);
            } else if (activation != null) {
                // The producer writes the activation's output; its own value is never stored. The buffer is named after the
                // producer in messages (a tensor too large names the layer to change).
                output = activationBuffer(graph.shape(activation.name()).withBatch(batch), node.name());
                activations.put(activation.name(), output);
                fusedInto.put(node.name(), activation.name());
            } else {
                output = activationBuffer(graph.shape(node.name()).withBatch(batch), node.name());
            }
            activations.put(node.name(), output);
            Tensor[] inputs = new Tensor[node.inputs().size() + (residualFold == null ? 0 : 1)];
            Tensor[] gradInputs = new Tensor[inputs.length];
            List<Shape> inputShapes = new ArrayList<>();
            for (int i = 0; i < node.inputs().size(); i++) {
                String in = node.inputs().get(i);
                inputs[i] = activations.get(in);
                inputShapes.add(inputs[i].shape());
                if (folded.containsKey(in)) {
                    // This node applies the activation's derivative too: it writes what the activation's backward would have.
                    gradInputs[i] = stepsByName.get(in).gradInputs[0];
                } else if (requiresGrad.contains(in)) {
                    if (readers.get(in) == 1) {
                        gradInputs[i] = gradients.get(in);
                    } else {
                        gradInputs[i] = gradientBuffer(inputs[i].shape(), "a gradient of " + in + " from " + node.name());
                        fanInGradients.computeIfAbsent(in, k -> new ArrayList<>()).add(gradInputs[i]);
                    }
                }
            }
            if (residualFold != null) {
                // The residual, the producer's last input (compiled for inference: no gradient)
                inputs[inputs.length - 1] = activations.get(residualFold.residual());
                inputShapes.add(inputs[inputs.length - 1].shape());
            }
            boolean hasTrainable = graph.params(node.name()).stream().anyMatch(p -> p.decl().trainable());
            boolean needsBackward = purpose != Purpose.INFERENCE && (requiresGrad.contains(node.name()) || hasTrainable)
                    && !folded.containsKey(node.name());
            LayerKernel kernel;
            try {
                LayerType type = graph.type(node.name());
                UnaryOp inputActivation = foldingReaders.contains(node.name())
                        ? ((ActivationLayer) graph.type(node.inputs().get(0))).activation() : null;
                KernelContext context = context(node, inputShapes, output.shape(), inputActivation);
                if (fusedActivations.contains(node.name())) kernel = new FusedActivation(((ActivationLayer) type).activation());
                else if (affineFoldedInto.containsKey(node.name()) || residualFoldedInto.containsKey(node.name())) kernel = FOLDED_AWAY;
                else if (foldedAffine != null) {
                    FoldedAffineKernel k = foldedAffineKernel(node, context, foldedAffine, fusions.get(foldedAffine.name()), residualFold,
                            fusions, output.shape());
                    foldedAffineKernels.put(foldedAffine.name(), k);
                    foldedKernels.add(k);
                    kernel = k;
                }
                else if (activation != null) kernel = ((EpilogueLayer) type).compile(context, ((ActivationLayer) graph.type(activation.name())).activation());
                else kernel = type.compile(context);
            } catch (ArithmeticException tooLarge) {
                // A layer sized a tensor beyond an int (Shape.size): a real compile fails here; a measure goes on counting.
                if (!measuring) throw tooLarge;
                if (layerTooLarge == null) layerTooLarge = node.name() + ": " + tooLarge.getMessage();
                kernel = null;
            }
            Step step = new Step(node, index++, kernel, inputs, output, gradInputs, needsBackward);
            stepsByName.put(node.name(), step);
            if (folded.containsKey(node.name())) foldedInto.put(node.name(), folded.get(node.name()).name());
            for (ParamInfo p : graph.params(node.name())) {
                step.paramValues.put(p.decl().name(), params.value(p.fullName()));
                if (needsBackward && p.decl().trainable()) step.paramGrads.put(p.decl().name(), params.grad(p.fullName()));
            }
            steps.add(step);
        }
        for (var k : foldedAffineKernels.entrySet()) k.getValue().readAffineFrom(stepsByName.get(k.getKey()));
    }

    /**
     * The kernel of {@code producer} with {@code affine} (and the activation {@code after} it, or
     * null) folded in: the producer compiled with a bias, the affine layer's coefficient writer
     * compiled in its own context, and the folded weight and bias they share. With a residual sum
     * folded in as well ({@code residualFold}, or null), the producer adds the residual (its last
     * input) and applies the activation fused after the sum instead.
     */
    private FoldedAffineKernel foldedAffineKernel(Node producer, KernelContext producerContext, Node affine, Node after,
                                                  ResidualFold residualFold, Map<String, Node> fusions, Shape outputShape) {
        AffineFoldableLayer layer = (AffineFoldableLayer) graph.type(producer.name());
        LayerKernel inner;
        if (residualFold == null) {
            UnaryOp op = after == null ? null : ((ActivationLayer) graph.type(after.name())).activation();
            inner = layer.compileWithBias(producerContext, op);
        } else {
            Node sumAfter = fusions.get(residualFold.sum().name());
            UnaryOp op = sumAfter == null ? null : ((ActivationLayer) graph.type(sumAfter.name())).activation();
            inner = layer.compileWithBiasAndResidual(producerContext, op);
        }
        AffineWriter writer = ((InferenceAffineLayer) graph.type(affine.name()))
                .compileInferenceAffine(context(affine, List.of(outputShape), outputShape, null));
        Shape weightShape = null;
        for (ParamInfo p : graph.params(producer.name())) if (p.decl().name().equals("weight")) weightShape = params.value(p.fullName()).shape();
        if (weightShape == null) throw new IllegalStateException(producer.name() + " declares no parameter 'weight' to fold " + affine.name() + " into");
        Shape perChannel = Shape.of(outputShape.dim(1));
        return new FoldedAffineKernel(inner, writer, own(perChannel, Held.LAYER_STATE, "the folded scale of " + affine.name()),
                own(perChannel, Held.LAYER_STATE, "a workspace of the folded bias of " + producer.name()),
                own(weightShape, Held.LAYER_STATE, "the folded weight of " + producer.name()),
                own(perChannel, Held.LAYER_STATE, "the folded bias of " + producer.name()));
    }

    /** The step of a layer folded into the weights of the layer before it: that layer's forward wrote its output. */
    private static final LayerKernel FOLDED_AWAY = new LayerKernel() {
        @Override public void forward(ForwardPass pass) {}

        @Override public void backward(BackwardPass pass) {
            throw new IllegalStateException("a layer folded into the one before it is for inference only: no backward");
        }
    };

    /**
     * The step of an activation fused into its producer's epilogue: forward has nothing left to do
     * (the producer wrote y), backward turns dL/dy into dL/d(pre-activation) from y alone
     * ({@link UnaryOp#derivativeFromOutputAlone()}: y stands in for x where the op reads x).
     */
    private record FusedActivation(UnaryOp op) implements LayerKernel {
        @Override public void forward(ForwardPass pass) {}

        @Override public void backward(BackwardPass pass) {
            // No gradient of the producer's value: the producer applies the derivative itself (appliesActivationBackward).
            if (pass.gradInput(0) == null) return;
            Tensor y = pass.output();
            pass.backend().unaryBackward(op, y, y, pass.gradOutput(), pass.gradInput(0));
        }
    }

    /**
     * What compiling {@code graph} for {@code batch} samples allocates, counted on a planning backend
     * without allocating: the same walk as a real compile, kernels and fusions included.
     *
     * @param params the parameters the compiled steps read (real or planned; nothing is read)
     */
    static CompiledModel measure(TypedGraph graph, int batch, ParameterStore params, Purpose purpose) {
        return measure(graph, batch, params, purpose, fusionEnabled());
    }

    private static CompiledModel measure(TypedGraph graph, int batch, ParameterStore params, Purpose purpose, boolean fuse) {
        return new CompiledModel(graph, new PlanningBackend().backend, batch, params, purpose, true, fuse);
    }

    /** Whether a compile for {@code batch} samples can be allocated in {@code bytes} ({@link #measure}). */
    private static boolean fits(TypedGraph graph, int batch, ParameterStore params, Purpose purpose, boolean fuse, long bytes) {
        CompiledModel m = measure(graph, batch, params, purpose, fuse);
        return m.tooLarge() == null && m.bytesAllocated() <= bytes;
    }

    /**
     * Refuses, before allocating anything, a model and batch whose activations, gradients and layer
     * state cannot fit what the backend has left (the parameters are already allocated), with the
     * largest batch that fits.
     */
    private static void checkMemory(TypedGraph graph, Backend backend, int batch, ParameterStore params, Purpose purpose, boolean fuse) {
        long available = backend.memoryAvailable();
        CompiledModel planned = measure(graph, batch, params, purpose, fuse);
        if (planned.tooLarge() == null && planned.bytesAllocated() <= available) return;
        int fits = MemoryPlanner.largestBatch(b -> fits(graph, b, params, purpose, fuse, available), batch - 1);
        // Device backends say what they hold of what total; the heap advice is for heap backends.
        String report = backend.memoryReport();
        String advice = report.isEmpty() ? "give Java more heap (NEURITE_JAVA_OPTS=-Xmx…) or the backend more memory"
                : "a smaller model or a device with more memory";
        throw new OutOfMemoryException(String.format(java.util.Locale.ROOT,
                "model %s at batch %d needs at least %,d MiB for %s%s, but backend %s has %,d MiB available%s; %s, or %s",
                graph.graph().name(), batch, planned.bytesAllocated() >> 20,
                purpose == Purpose.INFERENCE ? "activations" : "activations, their gradients and layer state",
                planned.tooLarge() == null ? "" : ", with a tensor of more than 2^31-1 elements (" + planned.tooLarge() + ")",
                backend.name(), available >> 20, report.isEmpty() ? "" : " (" + report + ")",
                fits > 0 ? "use a batch of at most " + fits : "not even a batch of 1 fits", advice));
    }

    /**
     * Compiles {@code graph} for {@code batch} samples on {@code backend}, reading and writing the
     * parameters in {@code params}.
     */
    public static CompiledModel compile(TypedGraph graph, Backend backend, int batch, ParameterStore params) {
        return new CompiledModel(graph, backend, batch, params, Purpose.TRAINING);
    }

    /** As {@link #compile}, and also computes gradients with respect to the graph inputs. */
    public static CompiledModel compileWithInputGradients(TypedGraph graph, Backend backend, int batch, ParameterStore params) {
        return new CompiledModel(graph, backend, batch, params, Purpose.INPUT_GRADIENTS);
    }

    /**
     * As {@link #compile}, for forward passes only (prediction, evaluation): no activation or
     * parameter gradients are allocated, about half the memory of a training compile.
     * {@link #gradOutput()} still exists, so a loss can be computed; {@link #backward()} refuses.
     */
    public static CompiledModel compileForInference(TypedGraph graph, Backend backend, int batch, ParameterStore params) {
        return new CompiledModel(graph, backend, batch, params, Purpose.INFERENCE);
    }

    /**
     * As {@link #compileForInference}, keeping every value's own activation buffer (no fusion), for
     * tools that show what each layer computed ({@code nn viz}).
     */
    public static CompiledModel compileForInspection(TypedGraph graph, Backend backend, int batch, ParameterStore params) {
        return new CompiledModel(graph, backend, batch, params, Purpose.INFERENCE, false, false);
    }

    /** Values whose gradient some trainable parameter (or a requested input gradient) needs. */
    private Set<String> requiresGrad(boolean inputGradients) {
        // A value needs a gradient if it is downstream of a trainable parameter or of a graph input
        // whose gradient was asked for: only then can backward reach something that wants it.
        Set<String> dependsOnTrainable = new HashSet<>();
        if (inputGradients) for (GraphInput in : graph.graph().inputs()) dependsOnTrainable.add(in.name());
        for (Node n : graph.graph().nodes()) {
            boolean own = graph.params(n.name()).stream().anyMatch(p -> p.decl().trainable());
            boolean upstream = n.inputs().stream().anyMatch(dependsOnTrainable::contains);
            if (own || upstream) dependsOnTrainable.add(n.name());
        }
        return dependsOnTrainable;
    }

    private KernelContext context(Node node, List<Shape> inputShapes, Shape outputShape, UnaryOp inputActivation) {
        return new KernelContext() {
            @Override public Backend backend() { return backend; }
            @Override public String nodeName() { return node.name(); }
            @Override public int batch() { return batch; }
            @Override public LayerArgs args() { return node.args(); }
            @Override public List<Shape> inputShapes() { return inputShapes; }
            @Override public Shape outputShape() { return outputShape; }
            @Override public Tensor allocate(Shape shape) { return own(shape, Held.LAYER_STATE, "the state of " + node.name()); }
            @Override public UnaryOp inputActivation() { return inputActivation; }
        };
    }

    /**
     * An activation gradient: in a model that runs backward, with sharing on
     * ({@link #shareBuffers}), a placeholder that {@link #placeShared} replaces by a
     * buffer; else its own buffer.
     */
    private Tensor gradientBuffer(Shape shape, String what) {
        if (purpose == Purpose.INFERENCE || !shareBuffers) return own(shape, Held.ACTIVATION_GRADIENTS, what);
        return placeholder(shape, Held.ACTIVATION_GRADIENTS, what);
    }

    /**
     * A node's output: compiled for inference with fusion and sharing on, a placeholder that
     * {@link #placeShared} replaces by a buffer; else its own buffer (training keeps every output
     * for backward; an inspection compile, unfused, keeps them for the caller).
     */
    private Tensor activationBuffer(Shape shape, String what) {
        if (purpose != Purpose.INFERENCE || !fuse || !shareBuffers) return own(shape, Held.ACTIVATIONS, what);
        return placeholder(shape, Held.ACTIVATIONS, what);
    }

    private Placeholder placeholder(Shape shape, Held kind, String what) {
        Placeholder p = new Placeholder(shape, backend, kind, what, placeholders.size());
        placeholders.add(p);
        return p;
    }

    /**
     * A tensor before its buffer is chosen: a shape without storage, never run on (the steps are
     * compiled with it, then {@link #placeShared} puts the buffer in its place everywhere).
     */
    private record Placeholder(Shape shape, Backend backend, Held kind, String what, int index) implements Tensor {}

    /**
     * Gives the placeholders their buffers. Lives are the spans of steps that touch a tensor,
     * walked as the passes run them: in training {@link #backward}'s order (a step's fan-in sum,
     * then its kernel, reading its gradOutput and writing its gradInputs), in inference
     * {@link #forward}'s (a step reads its inputs and writes its output). Tensors of one shape with
     * disjoint lives share a buffer ({@link BufferSharing}). Kept apart: the graph outputs'
     * gradients (written by the loss before backward) and the graph inputs' gradients and their
     * per-edge parts (summed after the last step, read by the caller); in inference the graph
     * outputs (read by the caller); and anything no step touches.
     */
    private void placeShared() {
        if (placeholders.isEmpty()) return;
        int count = placeholders.size(), steps = this.steps.size();
        int[] first = new int[count], last = new int[count];
        Arrays.fill(first, Integer.MAX_VALUE);
        Arrays.fill(last, -1);
        boolean[] own = new boolean[count];
        if (purpose == Purpose.INFERENCE) {
            for (int i = 0; i < steps; i++) {
                Step s = this.steps.get(i);
                for (Tensor in : s.inputs) touch(in, i, first, last);
                touch(s.output, i, first, last);
            }
            for (String out : graph.graph().outputs()) keepOwn(activations.get(out), own);
        } else {
            for (int i = steps - 1, time = 0; i >= 0; i--, time++) {
                Step s = this.steps.get(i);
                if (!s.needsBackward) continue;
                List<Tensor> parts = fanInGradients.get(s.node.name());
                if (parts != null) {
                    for (Tensor p : parts) touch(p, time, first, last);
                    touch(gradients.get(s.node.name()), time, first, last);
                }
                touch(s.gradOutput(), time, first, last);
                for (Tensor g : s.gradInputs) touch(g, time, first, last);
            }
            for (String out : graph.graph().outputs()) keepOwn(gradients.get(out), own);
            for (GraphInput in : graph.graph().inputs()) {
                keepOwn(gradients.get(in.name()), own);
                for (Tensor p : fanInGradients.getOrDefault(in.name(), List.of())) keepOwn(p, own);
            }
        }
        List<Shape> shapes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            shapes.add(placeholders.get(i).shape());
            if (last[i] < 0) own[i] = true;
        }
        int[] buffer = BufferSharing.assign(shapes, first, last, own);
        Tensor[] buffers = new Tensor[count];
        Tensor[] placed = new Tensor[count];
        for (int i = 0; i < count; i++) {
            Placeholder p = placeholders.get(i);
            if (buffers[buffer[i]] == null) buffers[buffer[i]] = own(p.shape(), p.kind(), p.what());
            placed[i] = buffers[buffer[i]];
        }
        for (var e : activations.entrySet()) e.setValue(placed(e.getValue(), placed));
        for (var e : gradients.entrySet()) e.setValue(placed(e.getValue(), placed));
        for (List<Tensor> parts : fanInGradients.values()) parts.replaceAll(t -> placed(t, placed));
        for (Step s : this.steps) {
            s.output = placed(s.output, placed);
            for (int i = 0; i < s.inputs.length; i++) s.inputs[i] = placed(s.inputs[i], placed);
            for (int i = 0; i < s.gradInputs.length; i++) s.gradInputs[i] = placed(s.gradInputs[i], placed);
        }
        placeholders.clear();
    }

    private static void touch(Tensor t, int time, int[] first, int[] last) {
        if (t instanceof Placeholder p) {
            first[p.index()] = Math.min(first[p.index()], time);
            last[p.index()] = Math.max(last[p.index()], time);
        }
    }

    private static void keepOwn(Tensor t, boolean[] own) {
        if (t instanceof Placeholder p) own[p.index()] = true;
    }

    private static Tensor placed(Tensor t, Tensor[] placed) {
        return t instanceof Placeholder p ? placed[p.index()] : t;
    }

    private Tensor own(Shape shape, Held kind, String what) {
        Tensor t;
        try {
            t = backend.allocate(shape);
        } catch (OutOfMemoryException e) {
            // The backend's report (tensor, bytes, what it holds, its total) prefixed with which model and batch.
            throw new OutOfMemoryException("model " + graph.graph().name() + " at batch " + batch + " does not fit backend "
                    + backend.name() + ": " + e.getMessage(), e);
        }
        owned.add(t);
        heldBytes[kind.ordinal()] += 4L * shape.elementCount();
        if (shape.elementCount() > Integer.MAX_VALUE && firstTooLarge[kind.ordinal()] == null) {
            firstTooLarge[kind.ordinal()] = what + " " + shape;
        }
        return t;
    }

    public TypedGraph graph() { return graph; }

    public Backend backend() { return backend; }

    public int batch() { return batch; }

    public ParameterStore parameters() { return params; }

    /** The buffer of graph input {@code i} ([batch, ...]); fill it before {@link #forward}. */
    public Tensor input(int i) { return activations.get(graph.graph().inputs().get(i).name()); }

    /** The first output ([batch, ...]). */
    public Tensor output() { return activations.get(graph.graph().outputs().get(0)); }

    /**
     * Any value's activation buffer, by value (node or input) name. A value fused into the
     * activation after it has none (see the class comment): {@link #compileForInspection} keeps them all.
     */
    public Tensor activation(String value) {
        String fused = fusedInto.get(value);
        if (fused != null) {
            throw new IllegalArgumentException("value '" + value + "' of model " + graph.graph().name() + " is not stored: it is computed in the"
                    + " epilogue of '" + fused + "' (compile for inspection, or run with -D" + FUSION_PROPERTY + "=false, to keep it)");
        }
        return activations.get(value);
    }

    /** The producers fused with the activation after them (producer name to activation name), in no order. */
    public Map<String, String> fusions() { return Map.copyOf(fusedInto); }

    /**
     * Compiled for inference: the layers folded into the weights of the layer before them (a batch
     * norm into its convolution; folded layer name to that layer's name), in no order.
     */
    public Map<String, String> foldedIntoWeights() { return Map.copyOf(affineFoldedInto); }

    /**
     * Compiled for inference: the residual sums folded into the convolution that produces one of
     * their terms and adds the other (sum name to that layer's name), in no order.
     */
    public Map<String, String> foldedResiduals() { return Map.copyOf(residualFoldedInto); }

    /** The activations whose backward runs inside their only reader's (activation name to reader name), in no order. */
    public Map<String, String> foldedBackwards() { return Map.copyOf(foldedInto); }

    /** dL/d(first output): the loss writes it before {@link #backward}. */
    public Tensor gradOutput() { return gradients.get(graph.graph().outputs().get(0)); }

    /** dL/d(value), or null when no gradient flows to it or it is never stored (an activation whose backward was folded into its reader's). */
    public Tensor gradient(String value) { return gradients.get(value); }

    /**
     * Runs every node's forward. {@code seed} seeds stochastic layers; each node gets its own
     * stream derived from (seed, node index).
     */
    public void forward(boolean training, long seed) {
        for (int i = 0; i < steps.size(); i++) forwardStep(i, training, seed);   // an index loop: no iterator per step
    }

    /**
     * {@code forward(false, 0)} for a caller that knows nothing has written the parameters since
     * this model's last forward (a {@link Predictor}'s pieces of one call): the batch norms folded
     * into the layers before them ({@link FoldedAffineKernel}) keep the weights they folded then
     * instead of folding them again. The same outputs, bit for bit.
     */
    public void forwardOnSameParameters() {
        for (FoldedAffineKernel k : foldedKernels) k.keepFold = true;
        try {
            forward(false, 0);
        } finally {
            for (FoldedAffineKernel k : foldedKernels) k.keepFold = false;
        }
    }

    /** Steps of {@link #forward}: one per node, in order. */
    public int forwardSteps() {
        return steps.size();
    }

    /** Step {@code i} of {@link #forward}: node i's kernel (a training step's shards run the graph step by step, {@code TrainStep}). */
    public void forwardStep(int i, boolean training, long seed) {
        Step s = steps.get(i);
        s.training = training;
        s.seed = CounterRandom.mix(seed * 0x9E3779B97F4A7C15L + s.index);
        s.kernel.forward(s);
    }

    /**
     * Runs backward from {@link #gradOutput()} in reverse order, overwriting every parameter
     * gradient. Must follow a {@code forward(true, …)} on the same buffers.
     */
    public void backward() {
        // placeShared traces these same accesses (fan-in sum, gradOutput, gradInputs) to give gradients their buffers.
        for (int i = 0, n = backwardSteps(); i < n; i++) backwardStep(i);
    }

    /** Steps of {@link #backward}: one per node, in reverse order, then the sums of the inputs' gradients. */
    public int backwardSteps() {
        return steps.size() + 1;
    }

    /** Step {@code i} of {@link #backward} (see {@link #backwardSteps}). */
    public void backwardStep(int i) {
        if (purpose == Purpose.INFERENCE) {
            throw new IllegalStateException("model " + graph.graph().name() + " was compiled for inference; compile it for training to run backward");
        }
        if (i < steps.size()) {
            Step s = steps.get(steps.size() - 1 - i);
            if (!s.needsBackward) return;
            sumFanIn(s.node.name());
            s.kernel.backward(s);
            return;
        }
        List<GraphInput> inputs = graph.graph().inputs();
        for (int k = 0; k < inputs.size(); k++) sumFanIn(inputs.get(k).name());   // an index loop: no iterator per step
    }

    /**
     * The gradient of a value read by several nodes: the sum of its per-edge parts (nothing for a
     * value read once), the first two added in one pass, any further ones accumulated.
     */
    private void sumFanIn(String value) {
        List<Tensor> parts = fanInGradients.get(value);
        if (parts == null) return;
        Tensor sum = gradients.get(value);
        backend.addForward(parts.get(0), parts.get(1), null, sum);
        for (int p = 2; p < parts.size(); p++) backend.axpby(1f, parts.get(p), 1f, sum);
    }

    /** Kernels that can report per-time-step gradient norms, by node name, in graph order. */
    public Map<String, org.neurite.layer.StepGradientProbe> stepGradientProbes() {
        Map<String, org.neurite.layer.StepGradientProbe> probes = new LinkedHashMap<>();
        for (Step s : steps) {
            if (s.kernel instanceof org.neurite.layer.StepGradientProbe p) probes.put(s.node.name(), p);
        }
        return probes;
    }

    /**
     * Where forward first produced a NaN or infinity: "node 'c3' (conv) wrote NaN into its output
     * [64, 16, 10, 10] from finite inputs", or null when every activation is finite. Downloads the
     * activations: a diagnostic for after a fault, not for every step.
     */
    public String firstNonFiniteActivation() {
        for (GraphInput in : graph.graph().inputs()) {
            String bad = nonFinite(activations.get(in.name()));
            if (bad != null) return "model input '" + in.name() + "' contains " + bad;
        }
        for (Step s : steps) {
            String bad = nonFinite(s.output);
            if (bad != null) {
                return "node '" + s.node.name() + "' (" + s.node.layer() + ") wrote " + bad + " into its output " + s.output.shape()
                        + " from finite inputs" + paramsNote(s);
            }
        }
        return null;
    }

    /**
     * Where backward first produced a NaN or infinity, walking in backward order: the node, and
     * which of its parameter gradients or its input gradients holds it; null when all are finite.
     */
    public String firstNonFiniteGradient() {
        for (int i = steps.size() - 1; i >= 0; i--) {
            Step s = steps.get(i);
            if (!s.needsBackward) continue;
            for (var e : s.paramGrads.entrySet()) {
                String bad = nonFinite(e.getValue());
                if (bad != null) return "node '" + s.node.name() + "' (" + s.node.layer() + ") wrote " + bad
                        + " into the gradient of " + s.node.name() + "." + e.getKey();
            }
            for (int k = 0; k < s.gradInputs.length; k++) {
                String bad = s.gradInputs[k] == null ? null : nonFinite(s.gradInputs[k]);
                if (bad != null) return "node '" + s.node.name() + "' (" + s.node.layer() + ") wrote " + bad
                        + " into the gradient of its input '" + s.node.inputs().get(k) + "'";
            }
        }
        return null;
    }

    private String paramsNote(Step s) {
        for (var e : s.paramValues.entrySet()) {
            String bad = nonFinite(e.getValue());
            if (bad != null) return "; its parameter " + s.node.name() + "." + e.getKey() + " holds " + bad;
        }
        return "";
    }

    /** "NaN" or "Inf" (with the first index) if the tensor holds one, else null. */
    private String nonFinite(Tensor t) {
        float[] v = backend.download(t);
        for (int i = 0; i < v.length; i++) {
            if (Float.isNaN(v[i])) return "NaN (first at element " + i + ")";
            if (Float.isInfinite(v[i])) return "Inf (first at element " + i + ")";
        }
        return null;
    }

    /** Bytes of activations, gradients and layer state this compiled model holds (float32). */
    public long bytesAllocated() {
        long sum = 0;
        for (long b : heldBytes) sum += b;
        return sum;
    }

    /** Bytes of the tensors this model owns that hold {@code kind}. */
    long bytesHeld(Held kind) { return heldBytes[kind.ordinal()]; }

    /**
     * Null when every tensor of this model can be allocated; else the first one with more than
     * 2^31-1 elements, which no backend holds: "c1 [64, 100000, 28, 28]".
     */
    String tooLarge() {
        // An activation names the layer to change; gradients (allocated first) have the same shapes.
        for (Held kind : List.of(Held.ACTIVATIONS, Held.LAYER_STATE, Held.ACTIVATION_GRADIENTS)) {
            if (firstTooLarge[kind.ordinal()] != null) return firstTooLarge[kind.ordinal()];
        }
        return layerTooLarge;
    }

    @Override public void close() {
        owned.forEach(Tensor::close);
        owned.clear();
    }
}
