package org.neurite.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.neurite.tensor.Shape;

/** The validation split a train section holds out: its size, its seed, and nothing shared with what is trained on. */
class HoldOutTest {
    /** Forty one-float samples whose value is their index, so a sample's identity survives the split. */
    private static Dataset numbered() {
        float[] x = new float[40];
        int[] labels = new int[40];
        for (int i = 0; i < 40; i++) {
            x[i] = i;
            labels[i] = i % 2;
        }
        return new Dataset("numbered", Shape.of(1), x, labels, 2, List.of(), false, "forty numbered samples");
    }

    @Test void aSeededFractionIsHeldOutDisjointAndInOrder() {
        HoldOut.Split s = HoldOut.validation(numbered(), 0.25, 7);
        assertEquals(30, s.kept().size());
        assertEquals(10, s.held().size());
        Set<Float> seen = new HashSet<>();
        for (float v : s.kept().features()) seen.add(v);
        for (float v : s.held().features()) assertTrue(seen.add(v), "sample " + v + " is on both sides");
        assertEquals(40, seen.size());
        float[] held = s.held().features();
        for (int i = 1; i < held.length; i++) assertTrue(held[i - 1] < held[i], "the held-out samples keep their order");
        assertEquals("the 25% validation split (10 samples) of forty numbered samples", s.held().description());

        assertArrayEquals(held, HoldOut.validation(numbered(), 0.25, 7).held().features(), "same seed, same split");
        assertFalse(Arrays.equals(held, HoldOut.validation(numbered(), 0.25, 8).held().features()), "another seed, another split");
        // Not the data source's test hold-out, drawn from another stream with the same seed.
        assertFalse(Arrays.equals(held, DataSourceLoader.holdOut(numbered(), 0.25, 7).test().features()));
    }

    @Test void aFractionThatLeavesNothingOnOneSideIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HoldOut.validation(numbered(), 0.01, 1));
        assertEquals("numbered: validation = 0.01 of 40 samples leaves 40 to train on and 0 to hold out; give a fraction that keeps both, "
                + "or train on more samples", e.getMessage());
    }
}
