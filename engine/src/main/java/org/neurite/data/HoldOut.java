package org.neurite.data;

import java.util.Arrays;

/**
 * A seeded random part of a dataset held out from the rest: the test split of {@code images} or
 * {@code csv} data without a test file ({@code test_fraction}), and the validation split a train
 * section asks for ({@code validation = 0.1}), which is held out of what remains for training.
 * The same seed and data hold out the same samples; both parts keep the samples' original order.
 */
public final class HoldOut {
    /** The stream a data source's test split is drawn from ("valid", the name it was introduced under; changing it would change every such split). */
    static final long TEST_STREAM = 0x76616C6964L;
    /** The stream the train section's validation split is drawn from ("holdout"), apart from the test split's and the epochs'. */
    static final long VALIDATION_STREAM = 0x686F6C646F7574L;

    private HoldOut() {}

    /** What is kept (to train on) and what is held out. */
    public record Split(Dataset kept, Dataset held) {}

    /**
     * The validation split of a train section's {@code validation = fraction}, drawn from
     * {@code train} (after {@code --limit}, so a quick run still holds out its share).
     *
     * @throws IllegalArgumentException when the fraction leaves no sample on one side
     */
    public static Split validation(Dataset train, double fraction, long seed) {
        return split(train, fraction, seed ^ VALIDATION_STREAM, "validation", "train on more samples");
    }

    /** The test split of a data source's {@code test_fraction}. */
    static Split test(Dataset all, double fraction, long seed) {
        return split(all, fraction, seed ^ TEST_STREAM, "test_fraction", "give a test file (test=...)");
    }

    /**
     * A random {@code fraction} of {@code all}, at least one sample each side.
     *
     * @param setting how the script names the fraction, for messages
     * @param otherwise what else helps when the data is too small to split
     */
    private static Split split(Dataset all, double fraction, long stream, String setting, String otherwise) {
        int n = all.size();
        int held = (int) Math.round(n * fraction);
        if (!(fraction > 0 && fraction < 1) || held < 1 || held >= n) {
            throw new IllegalArgumentException(all.name() + ": " + setting + " = " + fraction + " of " + n + " samples leaves "
                    + (n - held) + " to train on and " + held + " to hold out; give a fraction that keeps both, or " + otherwise);
        }
        int[] order = new EpochOrder(stream, n).permutation(0);
        int[] keptIdx = Arrays.copyOfRange(order, 0, n - held), heldIdx = Arrays.copyOfRange(order, n - held, n);
        Arrays.sort(keptIdx);
        Arrays.sort(heldIdx);
        String percent = Math.round(fraction * 100) + "%";
        String what = setting.equals("validation") ? "validation" : "test";
        return new Split(all.select(keptIdx, (n - held) + " samples of " + all.description() + " (" + percent + " held out)"),
                all.select(heldIdx, "the " + percent + " " + what + " split (" + held + " samples) of " + all.description()));
    }
}
