package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.tensor.Shape;

class DatasetTest {
    /** Four samples of shape [1, 1, 2]: sample i holds (10i, 10i+1) and label 3 - i. */
    private static Dataset four() {
        float[] x = {0, 1, 10, 11, 20, 21, 30, 31};
        return new Dataset("toy", Shape.of(1, 1, 2), x, new int[] {3, 2, 1, 0}, 4, List.of(), false, "a toy set");
    }

    @Test void copyBatchGathersTheIndexedSamplesAndTheirLabelsAsFloats() {
        Dataset d = four();
        float[] x = new float[3 * 2];
        float[] y = new float[3];
        int[] order = {2, 0, 3, 1};
        d.copyBatch(order, 1, 3, x, y); // samples 0, 3, 1
        assertArrayEquals(new float[] {0, 1, 30, 31, 10, 11}, x, 0f);
        assertArrayEquals(new float[] {3, 0, 2}, y, 0f);
        assertEquals(2, d.sampleSize());
        assertEquals(4, d.size());
    }

    @Test void copyBatchLeavesBufferTailsAloneForAShortLastBatch() {
        float[] x = {-1, -1, -1, -1};
        float[] y = {-1, -1};
        four().copyBatch(new int[] {0, 1, 2, 3}, 3, 1, x, y);
        assertArrayEquals(new float[] {30, 31, -1, -1}, x, 0f);
        assertArrayEquals(new float[] {0, -1}, y, 0f);
    }

    @Test void copyBatchRefusesRangesAndBuffersThatDoNotFit() {
        Dataset d = four();
        int[] order = {0, 1, 2, 3};
        assertEquals("batch [3, 5) is outside the 4 indices",
                assertThrows(IllegalArgumentException.class, () -> d.copyBatch(order, 3, 2, new float[4], new float[2])).getMessage());
        assertEquals("a batch of 2 needs x of 4 floats and y of 2; got 3 and 2",
                assertThrows(IllegalArgumentException.class, () -> d.copyBatch(order, 0, 2, new float[3], new float[2])).getMessage());
    }

    @Test void constructionChecksSizesAndLabels() {
        assertEquals("toy: 2 labels of samples shaped [1, 1, 2] need 4 feature values, got 3",
                assertThrows(IllegalArgumentException.class, () -> new Dataset("toy", Shape.of(1, 1, 2), new float[3],
                        new int[2], 2, List.of(), false, "")).getMessage());
        assertEquals("toy: label 2 of sample 1 is outside [0, 2)",
                assertThrows(IllegalArgumentException.class, () -> new Dataset("toy", Shape.of(1), new float[2],
                        new int[] {0, 2}, 2, List.of(), false, "")).getMessage());
    }
}
