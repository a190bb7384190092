package org.neurite.serving;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.neurite.data.ImageFiles;
import org.neurite.tensor.Shape;

/**
 * A picture upload ({@link ImageFiles#FORMATS}) as a model input, the way training and {@code nn predict} read pictures
 * ({@link ImageFiles}): scaled to [0, 1], converted to the input's channels and resized
 * bilinearly to its height and width, laid out [C, H, W].
 */
final class ImageInput {
    private ImageInput() { }

    static float[] decode(byte[] bytes, Shape sample) {
        if (sample.rank() != 3 || (sample.dim(0) != 1 && sample.dim(0) != 3)) {
            throw InferenceError.badRequest("the model's input " + sample + " is not an image [1 or 3, H, W]");
        }
        if (bytes.length == 0) throw InferenceError.badRequest("the request has no image; send a picture (" + ImageFiles.FORMATS + ") as the body");
        BufferedImage image;
        try {
            image = ImageIO.read(new ByteArrayInputStream(bytes));
        } catch (IOException | RuntimeException e) {
            throw InferenceError.badRequest("the image cannot be decoded: " + e.getMessage());
        }
        if (image == null) throw InferenceError.badRequest("the body is not a " + ImageFiles.FORMATS + " picture");
        float[] x = new float[sample.size()];
        ImageFiles.convert(image, sample, x, 0);   // as training and nn predict convert pictures
        return x;
    }

    /** Probabilities of one row of logits (max subtracted first, in double). */
    static float[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double sum = 0;
        for (float v : logits) sum += Math.exp(v - max);
        float[] p = new float[logits.length];
        for (int i = 0; i < p.length; i++) p[i] = (float) (Math.exp(logits[i] - max) / sum);
        return p;
    }
}
