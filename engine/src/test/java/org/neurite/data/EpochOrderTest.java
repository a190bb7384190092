package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EpochOrderTest {
    @Test void theOrderDependsOnlyOnSeedAndEpoch() {
        int[] first = new EpochOrder(42, 1000).permutation(3);
        int[] again = new EpochOrder(42, 1000).permutation(3);
        assertArrayEquals(first, again);
        assertFalse(Arrays.equals(first, new EpochOrder(42, 1000).permutation(4)), "another epoch, another order");
        assertFalse(Arrays.equals(first, new EpochOrder(43, 1000).permutation(3)), "another seed, another order");
    }

    @Test void eachEpochIsAPermutationThatActuallyShuffles() {
        int[] order = new EpochOrder(7, 1000).permutation(0);
        int[] sorted = order.clone();
        Arrays.sort(sorted);
        assertArrayEquals(IntStream.range(0, 1000).toArray(), sorted);
        long fixedPoints = IntStream.range(0, 1000).filter(i -> order[i] == i).count();
        assertTrue(fixedPoints < 10, "a shuffle leaves about one element in place, not " + fixedPoints);
    }

    @Test void fillReusesTheCallersArrayAndMatchesPermutation() {
        EpochOrder order = new EpochOrder(5, 6);
        int[] buffer = {9, 9, 9, 9, 9, 9, 9};
        order.fill(2, buffer);
        assertArrayEquals(order.permutation(2), Arrays.copyOf(buffer, 6));
        assertEquals(9, buffer[6], "slots beyond the dataset are untouched");
    }

    /** Fisher–Yates gives every element the same chance of every position: 24,000 shuffles of 4. */
    @Test void firstPositionIsUniform() {
        EpochOrder order = new EpochOrder(123, 4);
        int[] counts = new int[4];
        int[] buffer = new int[4];
        for (int epoch = 0; epoch < 24_000; epoch++) {
            order.fill(epoch, buffer);
            counts[buffer[0]]++;
        }
        // Expected 6,000 each; the standard deviation is about 67, so +-400 is six sigma.
        for (int c : counts) assertTrue(Math.abs(c - 6000) < 400, Arrays.toString(counts));
    }

    @Test void batchesCoverTheEpochWithAShortLastOne() {
        assertEquals(3, new EpochOrder(1, 10).batches(4));
        assertEquals(2, new EpochOrder(1, 10).batches(5));
        assertEquals(0, new EpochOrder(1, 0).batches(5));
    }
}
