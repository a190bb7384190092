package org.neurite.data;

import java.io.IOException;

/**
 * Random access to the samples of a dataset kept on disk, one chunk of samples at a time: what a
 * {@link StreamingLoader} thread reads with. Sample {@code i} is {@link #sampleSize()} floats,
 * exactly the floats the in-memory reader of the same files would hold, so training on either
 * gives the same batches. Implementations may be called from several loader threads at once and
 * hold no sample data between calls (the loader's buffers are the only place samples live).
 */
interface SampleReader {
    /** Number of samples. */
    int size();

    /** Floats per sample. */
    int sampleSize();

    /**
     * Reads samples {@code indices[0 .. count)} into {@code rows}, sample {@code k} at
     * {@code rows[k * sampleSize() ..]}.
     *
     * @throws org.neurite.io.FileFormatException when a sample's file is damaged, naming it
     */
    void read(int[] indices, int count, float[] rows) throws IOException;
}
