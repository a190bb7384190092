package org.neurite.engine;

/** Mean loss and accuracy over one pass of a dataset, with throughput. */
public record EpochStats(int epoch, double loss, double accuracy, long samples, double seconds) {
    public double samplesPerSecond() { return seconds > 0 ? samples / seconds : 0; }
}
