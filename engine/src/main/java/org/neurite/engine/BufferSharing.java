package org.neurite.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.neurite.tensor.Shape;

/**
 * Which of a compiled model's tensors can share a buffer: those of one shape whose lives do not
 * meet. A life is the span of steps that touch the tensor, inclusive: in training an activation
 * gradient's backward steps, from the reader that writes it to the producer that reads it; in
 * inference an activation's forward steps, from its producer to its last reader. A step that
 * touches two tensors keeps them apart (its input and output, its gradOutput and gradInputs).
 * Greedy by first use, each tensor into the first free buffer of its shape (per shape an interval
 * graph: as few buffers as the most tensors alive at once).
 *
 * <p>Without sharing every value kept its own buffer for the whole step: the small ResNet at
 * batch 64 held 13.6 MiB of activation gradients, of which at most about 4 MiB are alive at once.
 */
final class BufferSharing {
    private BufferSharing() {}

    /**
     * The buffer of each tensor i, numbered from 0 in order of first use: tensors of equal shapes
     * whose lives {@code [firstUse[i], lastUse[i]]} (steps, inclusive) are disjoint may get the
     * same number. A tensor marked {@code own[i]} gets a buffer of its own.
     */
    static int[] assign(List<Shape> shapes, int[] firstUse, int[] lastUse, boolean[] own) {
        int count = shapes.size();
        Integer[] order = new Integer[count];
        for (int i = 0; i < count; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> firstUse[i]).thenComparingInt(i -> i));
        int[] buffer = new int[count];
        List<Shape> bufferShape = new ArrayList<>();
        List<Integer> busyUntil = new ArrayList<>(); // last step of the tensor in each buffer
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
