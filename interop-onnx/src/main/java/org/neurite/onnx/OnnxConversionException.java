package org.neurite.onnx;

/**
 * A model that cannot be converted: a layer with no ONNX counterpart (export), or ONNX operators
 * Neurite lacks or a file that is not a usable ONNX model (import). The message names what failed
 * and where; the command line reports it with exit status 2 and writes nothing.
 */
public final class OnnxConversionException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public OnnxConversionException(String message) {
        super(message);
    }
}
