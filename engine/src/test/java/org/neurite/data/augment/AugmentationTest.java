package org.neurite.data.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.neurite.diag.SourceSpan;
import org.neurite.tensor.Shape;
import org.neurite.train.AugmentSpec;
import org.neurite.train.Augmentations;

/**
 * Each augmentation against values worked out by hand (flip and crop exactly, a quarter turn
 * against numpy's {@code rot90}, jitter's formula), the ranges its draws cover, and the
 * pipeline's promise: the same (seed, epoch, sample index) always gives the same picture, wherever
 * the sample sits in a batch, and another epoch gives another.
 */
class AugmentationTest {
    /** 1, 2, 3, ... n: every pixel tells where it came from. */
    private static float[] counting(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = i + 1;
        return x;
    }

    private static AugmentSpec spec(String name, List<Object> positional, Map<String, Object> named) {
        return new AugmentSpec(name, Augmentations.schema(name).bind(positional, named), SourceSpan.UNKNOWN);
    }

    @Test void aHorizontalFlipMirrorsEveryRowOfEveryChannel() {
        float[] x = counting(12);                                  // [2, 2, 3]
        new Flip(2, 2, 3, false, 1).flip(x, 0);
        assertArrayEquals(new float[] {3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10}, x);
    }

    @Test void aVerticalFlipTurnsThePictureUpsideDownAtAnOffset() {
        float[] x = new float[2 + 6];
        System.arraycopy(counting(6), 0, x, 2, 6);                 // [1, 3, 2] after two other floats
        new Flip(1, 3, 2, true, 1).flip(x, 2);
        assertArrayEquals(new float[] {0, 0, 5, 6, 3, 4, 1, 2}, x);
    }

    @Test void flipHappensWithItsProbability() {
        float[] original = counting(6);
        int flipped = 0;
        for (int key = 0; key < 1000; key++) {
            float[] x = original.clone();
            new Flip(1, 2, 3, false, 0.5).apply(x, 0, key, null);
            if (!Arrays.equals(x, original)) flipped++;
            float[] never = original.clone();
            new Flip(1, 2, 3, false, 0).apply(never, 0, key, null);
            assertArrayEquals(original, never);
        }
        assertTrue(flipped > 430 && flipped < 570, "about half of 1000 flipped: " + flipped);
    }

    @Test void aCropOfThePaddedPictureIsAShiftFilledWithZeros() {
        float[] x = counting(9);                                   // [1, 3, 3]: 1 2 3 / 4 5 6 / 7 8 9
        new RandomCrop(1, 3, 3, 1).shift(x, 0, 1, -1, new float[9]);
        // out[i][j] = in[i + 1][j - 1]: the crop window starts one row down, one column left of the picture.
        assertArrayEquals(new float[] {0, 4, 5, 0, 7, 8, 0, 0, 0}, x);
    }

    @Test void randomCropShiftsByEveryAmountUpToThePadAndNoFurther() {
        int size = 29;
        int centre = 14;
        int pad = 4;
        RandomCrop crop = new RandomCrop(1, size, size, pad);
        Set<Integer> seen = new HashSet<>();
        float[] scratch = new float[size * size];
        for (int key = 0; key < 3000; key++) {
            float[] x = new float[size * size];
            x[centre * size + centre] = 1;
            crop.apply(x, 0, key, scratch);
            int at = -1;
            for (int i = 0; i < x.length; i++) if (x[i] == 1) at = i;
            int dy = at / size - centre;
            int dx = at % size - centre;
            assertTrue(Math.abs(dy) <= pad && Math.abs(dx) <= pad, "shift " + dy + ", " + dx);
            seen.add(dy * 100 + dx);
        }
        assertEquals(81, seen.size(), "every one of the 9 x 9 shifts occurs");
    }

    @Test void aQuarterTurnIsNumpysRot90() {
        // np.rot90 of [[1,2,3],[4,5,6],[7,8,9]] (counter-clockwise) is [[3,6,9],[2,5,8],[1,4,7]].
        float[] x = counting(9);
        new Rotate(1, 3, 3, 90).turn(x, 0, 90, new float[9]);
        assertArrayEquals(new float[] {3, 6, 9, 2, 5, 8, 1, 4, 7}, x, 1e-5f);
        // An even side turns about a centre between pixels, still onto whole pixels: out[i][j] = in[j][3 - i].
        float[] y = counting(16);
        new Rotate(1, 4, 4, 90).turn(y, 0, -90, new float[16]);   // clockwise: out[i][j] = in[3 - j][i]
        float[] clockwise = new float[16];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) clockwise[i * 4 + j] = (3 - j) * 4 + i + 1;
        assertArrayEquals(clockwise, y, 1e-5f);
    }

    @Test void aTurnBySomeDegreesInterpolatesBilinearlyAndFillsWithZero() {
        // Half a turn is a flip both ways; 45 degrees sends the corners outside (0) and keeps the centre.
        float[] x = counting(9);
        new Rotate(1, 3, 3, 180).turn(x, 0, 180, new float[9]);
        assertArrayEquals(new float[] {9, 8, 7, 6, 5, 4, 3, 2, 1}, x, 1e-5f);
        float[] y = counting(9);
        new Rotate(1, 3, 3, 45).turn(y, 0, 45, new float[9]);
        assertEquals(5f, y[4], 1e-6f, "the centre stays");
        // Corner (0, 0) reads row 1 + sin45·(-1) + cos45·(-1) = 1 - √2 (above the picture), column
        // 1 + cos45·(-1) - sin45·(-1) = 1: of its two taps only pixel (0, 1) = 2 is inside.
        double s = Math.sqrt(0.5);
        double r = 1 - 2 * s;
        double f = r - Math.floor(r);                              // the weight of row 0
        assertEquals((float) (f * 2), y[0], 1e-5f);
        // Top middle reads row 1 - cos45, column 1 + sin45: between pixels (0,1) (0,2) (1,1) (1,2).
        double fr = 1 - s;
        double fc = s;
        double top = (1 - fc) * 2 + fc * 3;
        double bottom = (1 - fc) * 5 + fc * 6;
        assertEquals((float) ((1 - fr) * top + fr * bottom), y[1], 1e-5f);
    }

    @Test void rotationAnglesStayWithinTheirDegrees() {
        // A lone pixel one step right of the centre goes round the circle by at most 10 degrees.
        int size = 41;
        int c = 20;
        Rotate rotate = new Rotate(1, size, size, 10);
        double most = 0;
        for (int key = 0; key < 500; key++) {
            float[] x = new float[size * size];
            for (int j = c; j < size; j++) x[c * size + j] = 1;   // a ray to the right
            rotate.apply(x, 0, key, new float[size * size]);
            // The end of the ray (radius 20) moves by 20·sin(angle) rows; read it at column c + 19.
            double rowSum = 0, weight = 0;
            for (int i = 0; i < size; i++) {
                rowSum += i * x[i * size + c + 19];
                weight += x[i * size + c + 19];
            }
            double angle = Math.toDegrees(Math.atan2(c - rowSum / weight, 19));
            most = Math.max(most, Math.abs(angle));
            assertTrue(Math.abs(angle) <= 10.2, "angle " + angle);
        }
        assertTrue(most > 9, "the draws reach near the limit: " + most);
    }

    @Test void jitterScalesBrightnessThenContrastAndClamps() {
        float[] x = {0.2f, 0.8f};
        new Jitter(1, 1, 2, 0.5, 0).jitter(x, 0, 1.5f, 1f);
        assertArrayEquals(new float[] {0.3f, 1f}, x, 1e-6f);       // 1.2 clamps to 1
        float[] y = {0.2f, 0.6f};                                  // mean 0.4
        new Jitter(1, 1, 2, 0, 0.5).jitter(y, 0, 1f, 0.5f);
        assertArrayEquals(new float[] {0.5f * 0.2f + 0.2f, 0.5f * 0.6f + 0.2f}, y, 1e-6f);
        float[] rgb = {1, 0, 0};                                   // one red pixel: grey 0.299
        Jitter colour = new Jitter(3, 1, 1, 0, 1);
        assertEquals(0.299f, colour.meanGrey(rgb, 0), 1e-6f);
        colour.jitter(rgb, 0, 1f, 0f);                             // contrast 0: every value becomes the grey
        assertArrayEquals(new float[] {0.299f, 0.299f, 0.299f}, rgb, 1e-6f);
    }

    @Test void jitterFactorsStayInTheirRange() {
        Jitter jitter = new Jitter(1, 1, 1, 0.2, 0);
        float lo = 1, hi = 0;
        for (int key = 0; key < 2000; key++) {
            float[] x = {0.5f};
            jitter.apply(x, 0, key, null);
            lo = Math.min(lo, x[0]);
            hi = Math.max(hi, x[0]);
        }
        assertTrue(lo >= 0.4f && lo < 0.41f && hi <= 0.6f && hi > 0.59f, "0.5 · [0.8, 1.2]: " + lo + " .. " + hi);
    }

    private static AugmentationPipeline all(long seed) {
        return AugmentationPipeline.of(List.of(
                spec("random_crop", List.of(8), Map.of("pad", 2)),
                spec("flip", List.of("horizontal"), Map.of()),
                spec("rotate", List.of(), Map.of("degrees", 15.0)),
                spec("jitter", List.of(), Map.of("brightness", 0.2, "contrast", 0.3))), Shape.of(3, 8, 8), seed);
    }

    @Test void aSampleIsAugmentedTheSameWayForTheSameSeedEpochAndIndexOnly() {
        float[] picture = new float[3 * 8 * 8];
        SplittableRandom random = new SplittableRandom(5);
        for (int i = 0; i < picture.length; i++) picture[i] = (float) random.nextDouble();
        float[] a = picture.clone();
        float[] b = picture.clone();
        all(7).apply(a, 0, 42, 3);
        all(7).apply(b, 0, 42, 3);
        assertArrayEquals(a, b, 0f, "same seed, epoch and index: the same floats");
        assertFalse(Arrays.equals(a, picture), "and they were changed");
        for (float[] other : List.of(run(all(7), picture, 42, 4), run(all(7), picture, 43, 3), run(all(8), picture, 42, 3))) {
            assertFalse(Arrays.equals(a, other), "another epoch, index or seed: another picture");
        }
    }

    private static float[] run(AugmentationPipeline p, float[] picture, int index, int epoch) {
        float[] x = picture.clone();
        p.apply(x, 0, index, epoch);
        return x;
    }

    @Test void aBatchIsItsSamplesAugmentedOneByOneWhateverTheirPlace() {
        int size = 3 * 8 * 8;
        float[][] pictures = new float[5][size];
        SplittableRandom random = new SplittableRandom(9);
        for (float[] p : pictures) for (int i = 0; i < size; i++) p[i] = (float) random.nextDouble();
        int[] order = {4, 1, 3, 0, 2};
        float[] batch = new float[3 * size];
        for (int i = 0; i < 3; i++) System.arraycopy(pictures[order[2 + i]], 0, batch, i * size, size);
        all(1).applyToBatch(batch, order, 2, 3, 2);
        for (int i = 0; i < 3; i++) {
            float[] alone = run(all(1), pictures[order[2 + i]], order[2 + i], 2);
            assertArrayEquals(alone, Arrays.copyOfRange(batch, i * size, (i + 1) * size), 0f, "sample " + order[2 + i]);
        }
    }

    @Test void anEmptyListChangesNothingAndANonImageShapeIsRefused() {
        float[] x = counting(4);
        AugmentationPipeline none = AugmentationPipeline.of(List.of(), Shape.of(4), 1);
        assertTrue(none.isEmpty());
        none.apply(x, 0, 0, 1);
        assertArrayEquals(counting(4), x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AugmentationPipeline.of(List.of(spec("flip", List.of(), Map.of())), Shape.of(4), 1));
        assertEquals("augment works on images [channels, height, width], not samples shaped [4]", e.getMessage());
    }
}
