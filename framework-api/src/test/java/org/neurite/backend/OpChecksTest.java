package org.neurite.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The shared argument checks: what passes, what is refused, and the exact words. */
class OpChecksTest {
    @Test void argmaxMustNameAPositionOfItsOwnClippedWindow() {
        // 5x4 input, 3x3 windows, stride (1, 2), padding 1: output (oh 0, ow 1) covers rows [0, 2), columns [1, 4).
        Pool2dGeometry g = new Pool2dGeometry(1, 2, 5, 4, 3, 3, 1, 2, 1, 1, false, false);
        int planeOutputs = g.outHeight() * g.outWidth();
        for (int plane = 0; plane < 2; plane++) {
            int o = plane * planeOutputs + 1;
            for (int ih = 0; ih < 5; ih++)
                for (int iw = 0; iw < 4; iw++)
                    assertEquals(ih < 2 && iw >= 1, OpChecks.isArgmaxOfWindow(g, o, ih * 4 + iw), "plane " + plane + " (" + ih + ", " + iw + ")");
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f, 1.5f, 20f, 1e10f})
                assertFalse(OpChecks.isArgmaxOfWindow(g, o, bad), "value " + bad);
        }
        float[] argmax = new float[2 * planeOutputs];
        for (int o = 0; o < argmax.length; o++) {
            int q = o % planeOutputs, oh = q / g.outWidth(), ow = q % g.outWidth();
            argmax[o] = Math.max(oh - 1, 0) * 4 + Math.max(ow * 2 - 1, 0); // each window's top-left input position
        }
        OpChecks.checkArgmax(g, argmax, argmax.length);
        argmax[7] = 0f;
        argmax[9] = Float.NaN;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OpChecks.checkArgmax(g, argmax, argmax.length));
        assertEquals("maxPool2dBackward: argmax 0.0 at output 7 is not an input position of that output's window (rows [2, 5), "
                + "columns [1, 4) of a 5x4 plane, as index row * 4 + column); the index tensor is not the one maxPool2dForward wrote", e.getMessage());
    }

    @Test void overlapsAreJudgedByStorageIdentity() {
        float[] a = new float[10], b = new float[10];
        OpChecks.checkInPlaceOrDisjoint("unary", UnaryOp.RELU, "y", a, 2, "x", a, 2, 4); // in place
        OpChecks.checkInPlaceOrDisjoint("unary", UnaryOp.RELU, "y", a, 0, "x", a, 4, 4); // apart
        OpChecks.checkInPlaceOrDisjoint("unary", UnaryOp.RELU, "y", a, 0, "x", b, 1, 4); // other storage
        assertEquals("unary RELU: y [0, 4) overlaps x [1, 5) of the same tensor; use the same range or disjoint ones",
                assertThrows(IllegalArgumentException.class,
                        () -> OpChecks.checkInPlaceOrDisjoint("unary", UnaryOp.RELU, "y", a, 0, "x", a, 1, 4)).getMessage());
        OpChecks.checkDisjoint("lstm", "h", a, 0, 3, "c", a, 3, 3);
        assertEquals("lstm: h [0, 4) overlaps c [3, 6) of the same tensor",
                assertThrows(IllegalArgumentException.class, () -> OpChecks.checkDisjoint("lstm", "h", a, 0, 4, "c", a, 3, 3)).getMessage());
        assertEquals("pad2d: y must not be the same tensor as x",
                assertThrows(IllegalArgumentException.class, () -> OpChecks.checkDistinct("pad2d", "y", a, "x", a)).getMessage());
    }

    @Test void rangesMatricesAndBlocks() {
        OpChecks.checkRange("x", 10, 6, 4);
        assertEquals("x range [6, 11) is outside [0, 10)",
                assertThrows(IllegalArgumentException.class, () -> OpChecks.checkRange("x", 10, 6, 5)).getMessage());
        OpChecks.checkMatrix("A", 2 * 12, 0, 4, 3, 4, 2, 12);
        assertEquals("gemm: A [3 x 4, ld 4] x 2 from offset 1 (stride 12) reaches element 24 of a tensor of 24",
                assertThrows(IllegalArgumentException.class, () -> OpChecks.checkMatrix("A", 24, 1, 4, 3, 4, 2, 12)).getMessage());
        assertEquals("copyBlocks: destination blocks of 4 floats 3 apart overlap; the stride must be >= the length",
                assertThrows(IllegalArgumentException.class, () -> OpChecks.checkCopyBlocks(100, 0, 4, 100, 0, 3, 4, 2)).getMessage());
        assertEquals("view 65536 x 65536 x 1 is too large",
                assertThrows(IllegalArgumentException.class, () -> OpChecks.viewSize(65536, 65536, 1)).getMessage());
        assertTrue(OpChecks.isRowIndex(3f, 4));
        assertFalse(OpChecks.isRowIndex(2.5f, 4));
        assertFalse(OpChecks.isRowIndex(4f, 4));
    }
}
