package org.neurite.onnx;

import java.util.Arrays;
import java.util.List;
import org.neurite.onnx.proto.Onnx.AttributeProto;
import org.neurite.onnx.proto.Onnx.NodeProto;
import org.neurite.onnx.proto.Onnx.TensorProto;
import org.neurite.tensor.Shape;

/**
 * Evaluates the operators exporters apply to weights before a layer reads them (PyTorch slices
 * and concatenates an LSTM's gate blocks into ONNX's order and adds a direction axis): Slice,
 * Concat, Unsqueeze, Squeeze, Gather, Transpose, Cast, on constant inputs. Values are held as
 * doubles with their dimensions; the result is a FLOAT or INT64 TensorProto like its first input.
 */
final class ConstantFolder {
    private ConstantFolder() {}

    /** The ops this folder evaluates. */
    static final List<String> OPS = List.of("Slice", "Concat", "Unsqueeze", "Squeeze", "Gather", "Transpose", "Cast");

    private record Value(long[] dims, double[] data, boolean integer) {
        int rank() { return dims.length; }

        long size(int from) {
            long n = 1;
            for (int i = from; i < dims.length; i++) n *= dims[i];
            return n;
        }
    }

    /** The folded output of {@code n}, whose inputs are {@code inputs} (null for an omitted optional input). */
    static TensorProto fold(NodeProto n, List<TensorProto> inputs, String name) {
        Value[] in = new Value[inputs.size()];
        for (int i = 0; i < in.length; i++) in[i] = inputs.get(i) == null ? null : value(inputs.get(i));
        Value out = switch (n.getOpType()) {
            case "Slice" -> slice(in);
            case "Concat" -> concat(in, (int) intAttr(n, "axis", 0));
            case "Unsqueeze" -> unsqueeze(in[0], longs(in[1]));
            case "Squeeze" -> squeeze(in[0], in.length > 1 && in[1] != null ? longs(in[1]) : null);
            case "Gather" -> gather(in[0], in[1], (int) intAttr(n, "axis", 0));
            case "Transpose" -> transpose(in[0], ints(n, "perm"));
            case "Cast" -> new Value(in[0].dims, in[0].data, intAttr(n, "to", 1) != TensorProto.DataType.FLOAT_VALUE
                    && intAttr(n, "to", 1) != TensorProto.DataType.DOUBLE_VALUE);
            default -> throw new IllegalArgumentException(n.getOpType());
        };
        return proto(out, name);
    }

    private static Value value(TensorProto t) {
        long[] dims = OnnxTensors.dims(t);
        boolean integer = OnnxTensors.isInteger(t);
        double[] data;
        if (integer) {
            long[] l = OnnxTensors.longValues(t);
            data = new double[l.length];
            for (int i = 0; i < l.length; i++) data[i] = l[i];
        } else {
            float[] f = OnnxTensors.floatValues(t);
            data = new double[f.length];
            for (int i = 0; i < f.length; i++) data[i] = f[i];
        }
        return new Value(dims, data, integer);
    }

    private static TensorProto proto(Value v, String name) {
        if (v.integer) {
            long[] l = new long[v.data.length];
            for (int i = 0; i < l.length; i++) l[i] = (long) v.data[i];
            TensorProto.Builder t = OnnxTensors.int64s(name, l).toBuilder().clearDims();
            for (long d : v.dims) t.addDims(d);
            return t.build();
        }
        float[] f = new float[v.data.length];
        for (int i = 0; i < f.length; i++) f[i] = (float) v.data[i];
        TensorProto.Builder t = OnnxTensors.floats(name, Shape.of(), f).toBuilder().clearDims();
        for (long d : v.dims) t.addDims(d);
        return t.build();
    }

    private static long[] longs(Value v) {
        long[] out = new long[v.data.length];
        for (int i = 0; i < out.length; i++) out[i] = (long) v.data[i];
        return out;
    }

    private static int axis(long a, int rank) {
        return (int) (a < 0 ? a + rank : a);
    }

    private static Value slice(Value[] in) {
        Value x = in[0];
        long[] starts = longs(in[1]);
        long[] ends = longs(in[2]);
        long[] axes = in.length > 3 && in[3] != null ? longs(in[3]) : null;
        long[] steps = in.length > 4 && in[4] != null ? longs(in[4]) : null;
        long[] from = new long[x.rank()];
        long[] to = x.dims.clone();
        for (int i = 0; i < starts.length; i++) {
            int a = axes == null ? i : axis(axes[i], x.rank());
            if (steps != null && steps[i] != 1) throw new OnnxConversionException("Slice with a step other than 1 on a constant");
            long d = x.dims[a];
            long s = starts[i] < 0 ? starts[i] + d : starts[i];
            long e = ends[i] < 0 ? ends[i] + d : Math.min(ends[i], d);
            from[a] = Math.max(0, Math.min(s, d));
            to[a] = Math.max(from[a], Math.min(e, d));
        }
        long[] dims = new long[x.rank()];
        for (int a = 0; a < dims.length; a++) dims[a] = to[a] - from[a];
        double[] out = new double[(int) product(dims)];
        int[] index = new int[x.rank()];
        for (int i = 0; i < out.length; i++) {
            long flat = 0;
            for (int a = 0; a < x.rank(); a++) flat = flat * x.dims[a] + from[a] + index[a];
            out[i] = x.data[(int) flat];
            for (int a = x.rank() - 1; a >= 0; a--) {
                if (++index[a] < dims[a]) break;
                index[a] = 0;
            }
        }
        return new Value(dims, out, x.integer);
    }

    private static Value concat(Value[] in, int axisAttr) {
        int rank = in[0].rank();
        int axis = axis(axisAttr, rank);
        long[] dims = in[0].dims.clone();
        dims[axis] = 0;
        for (Value v : in) dims[axis] += v.dims[axis];
        long outer = 1;
        for (int a = 0; a < axis; a++) outer *= dims[a];
        double[] out = new double[(int) product(dims)];
        int at = 0;
        for (long o = 0; o < outer; o++) {
            for (Value v : in) {
                int row = (int) v.size(axis);
                System.arraycopy(v.data, (int) (o * row), out, at, row);
                at += row;
            }
        }
        return new Value(dims, out, in[0].integer);
    }

    private static Value unsqueeze(Value x, long[] axes) {
        int rank = x.rank() + axes.length;
        boolean[] inserted = new boolean[rank];
        for (long a : axes) inserted[axis(a, rank)] = true;
        long[] dims = new long[rank];
        for (int a = 0, j = 0; a < rank; a++) dims[a] = inserted[a] ? 1 : x.dims[j++];
        return new Value(dims, x.data, x.integer);
    }

    private static Value squeeze(Value x, long[] axes) {
        boolean[] drop = new boolean[x.rank()];
        if (axes == null) for (int a = 0; a < x.rank(); a++) drop[a] = x.dims[a] == 1;
        else for (long a : axes) drop[axis(a, x.rank())] = true;
        return new Value(Arrays.stream(range(x.rank())).filter(a -> !drop[a]).mapToLong(a -> x.dims[a]).toArray(), x.data, x.integer);
    }

    private static Value gather(Value x, Value indices, int axisAttr) {
        int axis = axis(axisAttr, x.rank());
        long outer = 1;
        for (int a = 0; a < axis; a++) outer *= x.dims[a];
        int inner = (int) x.size(axis + 1);
        long[] idx = longs(indices);
        double[] out = new double[(int) (outer * idx.length * inner)];
        int at = 0;
        for (long o = 0; o < outer; o++) {
            for (long i : idx) {
                long k = i < 0 ? i + x.dims[axis] : i;
                System.arraycopy(x.data, (int) ((o * x.dims[axis] + k) * inner), out, at, inner);
                at += inner;
            }
        }
        long[] dims = new long[x.rank() - 1 + indices.rank()];
        int j = 0;
        for (int a = 0; a < axis; a++) dims[j++] = x.dims[a];
        for (long d : indices.dims) dims[j++] = d;
        for (int a = axis + 1; a < x.rank(); a++) dims[j++] = x.dims[a];
        return new Value(dims, out, x.integer);
    }

    private static Value transpose(Value x, int[] perm) {
        int rank = x.rank();
        if (perm == null) {
            perm = new int[rank];
            for (int a = 0; a < rank; a++) perm[a] = rank - 1 - a;
        }
        long[] dims = new long[rank];
        for (int a = 0; a < rank; a++) dims[a] = x.dims[perm[a]];
        long[] strides = new long[rank];
        for (int a = rank - 1, s = 1; a >= 0; s *= (int) x.dims[a], a--) strides[a] = s;
        double[] out = new double[x.data.length];
        int[] index = new int[rank];
        for (int i = 0; i < out.length; i++) {
            long flat = 0;
            for (int a = 0; a < rank; a++) flat += index[a] * strides[perm[a]];
            out[i] = x.data[(int) flat];
            for (int a = rank - 1; a >= 0; a--) {
                if (++index[a] < dims[a]) break;
                index[a] = 0;
            }
        }
        return new Value(dims, out, x.integer);
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) r[i] = i;
        return r;
    }

    private static long product(long[] dims) {
        long p = 1;
        for (long d : dims) p *= d;
        return p;
    }

    private static long intAttr(NodeProto n, String name, long fallback) {
        for (AttributeProto a : n.getAttributeList()) if (a.getName().equals(name)) return a.getI();
        return fallback;
    }

    private static int[] ints(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) return a.getIntsList().stream().mapToInt(Long::intValue).toArray();
        }
        return null;
    }
}
