package org.neurite.backend.cpu;

import org.neurite.backend.StepControl;

/**
 * What a training step leaves in its status tensor besides the loss: the count of correctly
 * classified rows and the step's control ({@link StepControl}: the clip factor and the skip flag).
 * Both are a few scalar operations per row or per step, run on the caller's thread; the squared
 * gradient norm they read comes from {@link CpuElementwise#sumOfSquares}, in double.
 */
final class CpuStepStatus {
    private CpuStepStatus() {}

    /**
     * Rows of logits [rows, classes] whose arg-max (the first largest value: a later value wins
     * only when greater, so a NaN wins only at index 0) equals the label; a label that is not a
     * class index never does.
     */
    static int countCorrect(float[] logits, float[] labels, int rows, int classes) {
        int correct = 0;
        for (int r = 0; r < rows; r++) {
            int from = r * classes, best = 0;
            float bestValue = logits[from];
            for (int c = 1; c < classes; c++) {
                float v = logits[from + c];
                if (v > bestValue) {
                    bestValue = v;
                    best = c;
                }
            }
            if (best == labels[r]) correct++;
        }
        return correct;
    }

    /**
     * control[at..at+2) from the squared norm and the loss (NaN-free when null): the clip factor
     * of the norm, and the skip flag raised when either is not finite (a raised flag stays).
     */
    static void control(double squaredNorm, double loss, float maxNorm, float[] control, int at) {
        boolean skip = control[at + StepControl.SKIP] != 0 || !StepControl.finite(squaredNorm, loss);
        control[at + StepControl.FACTOR] = StepControl.clipFactor(Math.sqrt(squaredNorm), maxNorm);
        control[at + StepControl.SKIP] = skip ? 1f : 0f;
    }
}
