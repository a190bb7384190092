package org.neurite.data;

import java.io.IOException;

/**
 * Some samples of another reader, in a given order: sample {@code i} here is sample
 * {@code indices[i]} there. What a streamed dataset's {@link Dataset#head} and
 * {@link Dataset#select} (a held-out split) read through, so neither copies a sample.
 */
record SelectedSampleReader(SampleReader all, int[] indices) implements SampleReader {
    SelectedSampleReader {
        indices = indices.clone();
        for (int i : indices) {
            if (i < 0 || i >= all.size()) throw new IllegalArgumentException("sample " + i + " is outside the " + all.size() + " samples");
        }
    }

    @Override public int size() { return indices.length; }

    @Override public int sampleSize() { return all.sampleSize(); }

    @Override public void read(int[] selected, int count, float[] rows) throws IOException {
        int[] mapped = new int[count];
        for (int k = 0; k < count; k++) mapped[k] = indices[selected[k]];
        all.read(mapped, count, rows);
    }
}
