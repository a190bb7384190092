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

    static float[] random(SplittableRandom rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }
}
