package org.neurite.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.Result;
import ai.onnxruntime.OrtSession.SessionOptions;
import java.nio.FloatBuffer;
import java.util.Map;
import org.neurite.onnx.proto.Onnx.ModelProto;

/** Runs an ONNX model in ONNX Runtime (CPU, one thread, no graph rewrites) on one float input. */
final class OrtSession {
    private OrtSession() {}

    /** The first output of {@code model} for {@code x} of shape {@code shape} (batch first), flattened. */
    static float[] run(ModelProto model, float[] x, long... shape) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (SessionOptions options = new SessionOptions()) {
            options.setIntraOpNumThreads(1);
            // Run the graph as written, so a wrong node cannot be hidden by an optimiser rewrite.
            options.setOptimizationLevel(SessionOptions.OptLevel.NO_OPT);
            try (ai.onnxruntime.OrtSession session = env.createSession(model.toByteArray(), options);
                 OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                 Result result = session.run(Map.of(session.getInputNames().iterator().next(), input))) {
                FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
                float[] y = new float[out.remaining()];
                out.get(y);
                return y;
            }
        }
    }
}
