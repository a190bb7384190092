package org.neurite.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.tensor.Shape;

/**
 * {@link BufferSharing}: tensors of one shape share a buffer exactly when their lives
 * (inclusive spans of steps) are disjoint; a step that touches two tensors keeps them apart; other
 * shapes and tensors marked as their own never share; a chain of layers needs two buffers, however
 * long.
 */
class BufferSharingTest {
    private static final Shape A = Shape.of(4, 8), B = Shape.of(4, 2, 4);

    private static int[] assign(List<Shape> shapes, int[] first, int[] last) {
        return BufferSharing.assign(shapes, first, last, new boolean[shapes.size()]);
    }

    @Test void disjointLivesOfOneShapeShareABuffer() {
        int[] buffer = assign(List.of(A, A), new int[] {0, 3}, new int[] {2, 5});
        assertEquals(buffer[0], buffer[1]);
    }

    /** The step that reads one gradient (its producer's backward) writes the next: both busy at once. */
    @Test void livesThatMeetAtAStepDoNotShare() {
        int[] buffer = assign(List.of(A, A), new int[] {0, 2}, new int[] {2, 4});
        assertNotEquals(buffer[0], buffer[1]);
    }

    @Test void otherShapesDoNotShareEvenWithEqualSizes() {
        assertEquals(A.elementCount(), B.elementCount());
        int[] buffer = assign(List.of(A, B), new int[] {0, 3}, new int[] {1, 5});
        assertNotEquals(buffer[0], buffer[1]);
    }

    @Test void aGradientMarkedOwnSharesWithNothing() {
        boolean[] own = {true, false, false};
        int[] buffer = BufferSharing.assign(List.of(A, A, A), new int[] {0, 2, 4}, new int[] {1, 3, 5}, own);
        assertNotEquals(buffer[0], buffer[1]);
        assertNotEquals(buffer[0], buffer[2]);
        assertEquals(buffer[1], buffer[2], "the two others still share");
    }

    /** A chain: gradient i written at step i, read at step i + 1; alternate buffers suffice. */
    @Test void aChainOfLayersTakesTwoBuffers() {
        int n = 12;
        Shape[] shapes = new Shape[n];
        Arrays.fill(shapes, A);
        int[] first = new int[n], last = new int[n];
        for (int i = 0; i < n; i++) {
            first[i] = i;
            last[i] = i + 1;
        }
        int[] buffer = assign(List.of(shapes), first, last);
        assertEquals(2, Arrays.stream(buffer).distinct().count());
        for (int i = 0; i + 1 < n; i++) assertNotEquals(buffer[i], buffer[i + 1], "neighbours at step " + (i + 1));
    }

    /** Numbered in order of first use, whatever the order of the arguments. */
    @Test void buffersAreNumberedInOrderOfFirstUse() {
        int[] buffer = assign(List.of(A, B, A), new int[] {5, 3, 0}, new int[] {6, 4, 1});
        assertArrayEquals(new int[] {0, 1, 0}, buffer);
    }
}
