package org.neurite.backend.cpu;

import java.util.SplittableRandom;
import org.neurite.backend.Conv2dGeometry;

/** A convolution's inputs drawn uniformly from [-1, 1), the same for every call on one geometry (seeded by it). */
final class ConvTestData {
    final float[] x, w, bias, dy;

    ConvTestData(Conv2dGeometry g) {
        SplittableRandom rnd = new SplittableRandom(g.hashCode());
        x = random(rnd, g.batch() * g.inChannels() * g.height() * g.width());
        w = random(rnd, g.outChannels() * g.inChannels() * g.kernelH() * g.kernelW());
        bias = random(rnd, g.outChannels());
        dy = random(rnd, g.batch() * g.outChannels() * g.outHeight() * g.outWidth());
    }

    /**
     * dw of a one-group convolution (any stride, padding, dilation) by its definition in double,
     * and per weight the sum of |dy * x| over its terms: {@code {dw, magnitude}}, dw as
     * [Cout, Cin, kh, kw].
     */
    static double[][] filterGradient(Conv2dGeometry g, float[] x, float[] dy) {
        int cin = g.inChannels(), cout = g.outChannels(), h = g.height(), w = g.width(), ho = g.outHeight(), wo = g.outWidth();
        int kh = g.kernelH(), kw = g.kernelW();
        double[] sum = new double[cout * cin * kh * kw], magnitude = new double[sum.length];
        for (int n = 0; n < g.batch(); n++) {
            for (int co = 0; co < cout; co++) {
                for (int c = 0; c < cin; c++) {
                    for (int ki = 0; ki < kh; ki++) {
                        for (int kj = 0; kj < kw; kj++) {
                            int e = ((co * cin + c) * kh + ki) * kw + kj;
                            for (int oh = 0; oh < ho; oh++) {
                                int ih = oh * g.strideH() - g.padH() + ki * g.dilationH();
                                if (ih < 0 || ih >= h) continue;
                                for (int ow = 0; ow < wo; ow++) {
                                    int iw = ow * g.strideW() - g.padW() + kj * g.dilationW();
                                    if (iw < 0 || iw >= w) continue;
                                    double term = (double) dy[((n * cout + co) * ho + oh) * wo + ow] * x[((n * cin + c) * h + ih) * w + iw];
                                    sum[e] += term;
                                    magnitude[e] += Math.abs(term);
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {sum, magnitude};
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    /** {@code count} data sets of one shape whose weights are scaled by 1, 2, 3, ...: distinct layers. */
    static ConvTestData[] distinctLayers(Conv2dGeometry g, int count) {
        ConvTestData[] data = new ConvTestData[count];
        for (int i = 0; i < count; i++) {
            data[i] = new ConvTestData(g);
            for (int e = 0; e < data[i].w.length; e++) data[i].w[e] *= 1 + i;
        }
        return data;
    }
}
