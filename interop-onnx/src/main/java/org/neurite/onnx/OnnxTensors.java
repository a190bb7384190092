package org.neurite.onnx;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.neurite.onnx.proto.Onnx.TensorProto;
import org.neurite.tensor.Shape;

/**
 * Neurite's float tensors as ONNX {@code TensorProto}s and back. Values travel in {@code raw_data}
 * (little-endian, as the specification requires) when written; both {@code raw_data} and the typed
 * {@code float_data}/{@code int64_data} fields are read.
 */
final class OnnxTensors {
    private OnnxTensors() {}

    static TensorProto floats(String name, Shape shape, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(bytes.array()));
        for (int d : shape.dims()) t.addDims(d);
        return t.build();
    }

    static TensorProto int64s(String name, long... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(values.length)
                .setRawData(ByteString.copyFrom(bytes.array())).build();
    }

    /** Whether {@code t} holds integers (INT64 or INT32), which {@link #longValues} reads. */
    static boolean isInteger(TensorProto t) {
        return t.getDataType() == TensorProto.DataType.INT64_VALUE || t.getDataType() == TensorProto.DataType.INT32_VALUE;
    }

    /** Whether every value of a (FLOAT, DOUBLE, INT64 or INT32) tensor is zero. */
    static boolean floatOrLongIsZero(TensorProto t) {
        if (isInteger(t)) {
            for (long v : longValues(t)) if (v != 0) return false;
        } else {
            for (float v : floatValues(t)) if (v != 0) return false;
        }
        return true;
    }

    /** The dimensions of {@code t}. */
    static long[] dims(TensorProto t) {
        long[] d = new long[t.getDimsCount()];
        for (int i = 0; i < d.length; i++) d[i] = t.getDims(i);
        return d;
    }

    /** A FLOAT (or DOUBLE) tensor's values. */
    static float[] floatValues(TensorProto t) {
        long count = 1;
        for (long d : dims(t)) count *= d;
        if (count > Integer.MAX_VALUE) throw new OnnxConversionException("tensor '" + t.getName() + "' is too large");
        float[] out = new float[(int) count];
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new OnnxConversionException("tensor '" + t.getName() + "' keeps its values in an external file, which is not supported");
        }
        switch (t.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> {
                if (!t.getRawData().isEmpty()) {
                    requireBytes(t, count * 4);
                    t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
                } else {
                    requireCount(t, t.getFloatDataCount(), count);
                    for (int i = 0; i < out.length; i++) out[i] = t.getFloatData(i);
                }
            }
            case TensorProto.DataType.DOUBLE_VALUE -> {
                if (!t.getRawData().isEmpty()) {
                    requireBytes(t, count * 8);
                    var doubles = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
                    for (int i = 0; i < out.length; i++) out[i] = (float) doubles.get(i);
                } else {
                    requireCount(t, t.getDoubleDataCount(), count);
                    for (int i = 0; i < out.length; i++) out[i] = (float) t.getDoubleData(i);
                }
            }
            default -> throw new OnnxConversionException("tensor '" + t.getName() + "' has data type " + t.getDataType()
                    + "; only FLOAT (1) and DOUBLE (11) weights are supported");
        }
        return out;
    }

    /** An INT64 (or INT32) tensor's values, e.g. a Reshape's target shape. */
    static long[] longValues(TensorProto t) {
        long count = 1;
        for (long d : dims(t)) count *= d;
        long[] out = new long[(int) count];
        switch (t.getDataType()) {
            case TensorProto.DataType.INT64_VALUE -> {
                if (!t.getRawData().isEmpty()) {
                    requireBytes(t, count * 8);
                    t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
                } else {
                    requireCount(t, t.getInt64DataCount(), count);
                    for (int i = 0; i < out.length; i++) out[i] = t.getInt64Data(i);
                }
            }
            case TensorProto.DataType.INT32_VALUE -> {
                if (!t.getRawData().isEmpty()) {
                    requireBytes(t, count * 4);
                    var ints = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer();
                    for (int i = 0; i < out.length; i++) out[i] = ints.get(i);
                } else {
                    requireCount(t, t.getInt32DataCount(), count);
                    for (int i = 0; i < out.length; i++) out[i] = t.getInt32Data(i);
                }
            }
            default -> throw new OnnxConversionException("tensor '" + t.getName() + "' has data type " + t.getDataType()
                    + " where integers were expected");
        }
        return out;
    }

    private static void requireBytes(TensorProto t, long bytes) {
        if (t.getRawData().size() != bytes) {
            throw new OnnxConversionException("tensor '" + t.getName() + "' holds " + t.getRawData().size() + " bytes, its shape needs " + bytes);
        }
    }

    private static void requireCount(TensorProto t, int have, long need) {
        if (have != need) throw new OnnxConversionException("tensor '" + t.getName() + "' holds " + have + " values, its shape needs " + need);
    }
}
