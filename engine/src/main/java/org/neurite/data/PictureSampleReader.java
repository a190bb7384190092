package org.neurite.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.neurite.tensor.Shape;

/**
 * Pictures decoded when their chunk is read: sample {@code i} is {@code files[i]} through
 * {@link ImageFiles#read}, the conversion {@link ImageFolder#load} applies when it holds every
 * picture in memory, so both give the same floats. Only the paths are held.
 */
final class PictureSampleReader implements SampleReader {
    private final List<Path> files;
    private final Shape sample;

    PictureSampleReader(List<Path> files, Shape sample) {
        this.files = List.copyOf(files);
        this.sample = sample;
    }

    @Override public int size() { return files.size(); }

    @Override public int sampleSize() { return sample.size(); }

    @Override public void read(int[] indices, int count, float[] rows) throws IOException {
        int size = sample.size();
        for (int k = 0; k < count; k++) ImageFiles.read(files.get(indices[k]), sample, rows, k * size);
    }
}
