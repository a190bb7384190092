package org.neurite.backend;

/**
 * Everything a 2-D convolution kernel needs to know about its shapes, PyTorch semantics:
 * {@code outH = (h + 2*padH - dilH*(kh-1) - 1) / strideH + 1}. Input channels are split into
 * {@code groups} groups; output channel {@code oc} sees input channels of group
 * {@code oc / (outChannels/groups)}.
 */
public record Conv2dGeometry(int batch, int inChannels, int height, int width,
                             int outChannels, int kernelH, int kernelW,
                             int strideH, int strideW, int padH, int padW,
                             int dilationH, int dilationW, int groups) {
    public Conv2dGeometry {
        if (groups < 1 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new IllegalArgumentException("groups=" + groups + " must divide in=" + inChannels + " and out=" + outChannels);
        if (strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1 || kernelH < 1 || kernelW < 1 || padH < 0 || padW < 0)
            throw new IllegalArgumentException("invalid convolution geometry");
    }

    public int outHeight() { return (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1; }

    public int outWidth() { return (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1; }

    public int inChannelsPerGroup() { return inChannels / groups; }

    public int outChannelsPerGroup() { return outChannels / groups; }

    /** Forward multiply-adds times two, for the whole batch. */
    public long flops() {
        return 2L * batch * outChannels * outHeight() * outWidth() * inChannelsPerGroup() * kernelH * kernelW;
    }
}
