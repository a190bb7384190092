package org.neurite.backend;

/**
 * Geometry of a 2-D pooling window over x[batch, channels, height, width], PyTorch semantics
 * (floor mode unless {@code ceilMode}).
 */
public record Pool2dGeometry(int batch, int channels, int height, int width,
                             int kernelH, int kernelW, int strideH, int strideW, int padH, int padW,
                             boolean ceilMode, boolean countIncludePad) {
    public Pool2dGeometry {
        if (kernelH < 1 || kernelW < 1 || strideH < 1 || strideW < 1 || padH < 0 || padW < 0)
            throw new IllegalArgumentException("invalid pooling geometry");
    }

    public int outHeight() { return outSize(height, kernelH, strideH, padH); }

    public int outWidth() { return outSize(width, kernelW, strideW, padW); }

    private int outSize(int in, int k, int s, int p) {
        int span = in + 2 * p - k;
        int out = (ceilMode ? Math.floorDiv(span + s - 1, s) : Math.floorDiv(span, s)) + 1;
        // PyTorch: the last window must start inside the input or left padding.
        if (ceilMode && (out - 1) * s >= in + p) out--;
        return out;
    }
}
