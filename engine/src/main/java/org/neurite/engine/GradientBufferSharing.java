package org.neurite.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.neurite.tensor.Shape;

/**
 * Which activation gradients of a training step can share a buffer: those of one shape whose
 * lives in the backward pass do not meet. A gradient lives from the first backward step that
 * touches it (the reader that writes it) to the last (its producer, which reads it); a buffer
 * touched by a step is busy for that whole step, so a step's gradOutput and the gradInputs it
 * writes never share. Greedy by first use, each gradient into the first free buffer of its shape
 * (per shape an interval graph: as few buffers as the most gradients alive at once).
 *
 * <p>Without sharing every value kept its own gradient for the whole step: the small ResNet at
 * batch 64 held 13.6 MiB of activation gradients, of which at most about 4 MiB are alive at once.
 */
final class GradientBufferSharing {
    private GradientBufferSharing() {}

    /**
     * The buffer of each gradient i, numbered from 0 in order of first use: gradients of equal
     * shapes whose lives {@code [firstUse[i], lastUse[i]]} (backward steps, inclusive) are
     * disjoint may get the same number. A gradient marked {@code own[i]} gets a buffer of its own.
     */
    static int[] assign(List<Shape> shapes, int[] firstUse, int[] lastUse, boolean[] own) {
        int count = shapes.size();
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> firstUse[i]).thenComparingInt(i -> i));
        int[] buffer = new int[count];
        List<Shape> bufferShape = new ArrayList<>();
        List<Integer> busyUntil = new ArrayList<>(); // last step of the gradient in each buffer
        for (int i : order) {
            int home = -1;
            if (!own[i]) {
                for (int b = 0; b < bufferShape.size() && home < 0; b++) {
                    if (busyUntil.get(b) < firstUse[i] && bufferShape.get(b).equals(shapes.get(i))) home = b;
                }
            }
            if (home < 0) {
                home = bufferShape.size();
                bufferShape.add(shapes.get(i));
                busyUntil.add(own[i] ? Integer.MAX_VALUE : lastUse[i]);
            } else {
                busyUntil.set(home, lastUse[i]);
            }
            buffer[i] = home;
        }
        return buffer;
    }
}
