package org.neurite.data;

/**
 * The samples of a streamed {@link Dataset}: what reads them ({@code reader}) and what holds them
 * while batches are drawn ({@code loader}, shared by the splits of one source).
 */
record StreamedSamples(SampleReader reader, StreamingLoader loader) {
    int size() { return reader.size(); }

    int sampleSize() { return reader.sampleSize(); }

    /** Samples {@code order[from .. from + count)} into {@code x}, row after row. */
    void copy(int[] order, int from, int count, float[] x) {
        loader.copy(reader, order, from, count, x);
    }

    /** Samples {@code indices} of these, in that order, read through the same loader. */
    StreamedSamples select(int[] indices) {
        return new StreamedSamples(new SelectedSampleReader(reader, indices), loader);
    }
}
