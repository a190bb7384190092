package org.neurite.onnx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.neurite.io.NamedTensor;

/**
 * One step of an imported graph as the script will write it: a Neurite layer read from one or a
 * few ONNX nodes, or (after {@link ScriptWriter} has found repeated sub-graphs) a call of a block
 * standing for the units it replaced.
 */
final class Unit {
    /** Module path, e.g. {@code layer1.0.conv1}: from the initializer names, else the ONNX node's scope. */
    final String path;
    /** The layer name ({@code conv}), or the block's name for a call. */
    final String layer;
    /** Arguments in the order the layer's schema (or the block's parameter list) gives them. */
    final Map<String, Object> args;
    /** The values read: ONNX value names. */
    final List<String> inputs;
    /** The value written. */
    final String output;
    /** The layer's parameters in its declaration order ({@code weight}, {@code bias}, ...); empty for a call. */
    final List<NamedTensor> params;
    /** For a call: the block, and the units of this instance, in order. */
    final ScriptWriter.Block block;
    final List<Unit> body;

    Unit(String path, String layer, Map<String, Object> args, List<String> inputs, String output, List<NamedTensor> params) {
        this(path, layer, args, inputs, output, params, null, List.of());
    }

    Unit(String path, String layer, Map<String, Object> args, List<String> inputs, String output, List<NamedTensor> params,
         ScriptWriter.Block block, List<Unit> body) {
        this.path = path;
        this.layer = layer;
        this.args = new LinkedHashMap<>(args);
        this.inputs = List.copyOf(inputs);
        this.output = output;
        this.params = List.copyOf(params);
        this.block = block;
        this.body = List.copyOf(body);
    }

    boolean isCall() { return block != null; }

    /** Whether the unit owns parameters, which decides how Neurite names it. */
    boolean ownsParams() {
        if (!isCall()) return !params.isEmpty();
        return body.stream().anyMatch(Unit::ownsParams);
    }

    /** Every layer unit this one stands for, in expansion order. */
    List<Unit> layers() {
        if (!isCall()) return List.of(this);
        List<Unit> out = new ArrayList<>();
        for (Unit u : body) out.addAll(u.layers());
        return out;
    }

    @Override public String toString() { return path + ": " + layer + args + " <- " + inputs; }
}
