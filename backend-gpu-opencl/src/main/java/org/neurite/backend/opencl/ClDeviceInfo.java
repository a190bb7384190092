package org.neurite.backend.opencl;

import java.util.Locale;

/**
 * One OpenCL device as {@code nn backends} lists it and as a deployment's {@code device:} selects
 * it: its index in the listing (platforms in driver order, then each platform's devices), the
 * platform, the device name and type ({@code gpu}, {@code cpu}, {@code accelerator} or
 * {@code other}), compute units, global memory and the device's OpenCL version string. Plain
 * values, no JOCL handles, so callers need not load OpenCL to print it.
 */
public record ClDeviceInfo(int index, String platform, String name, String type, int computeUnits,
                           long globalMemoryBytes, String openclVersion, boolean fp64) {

    /** {@code 0: Portable Computing Language / cpu-haswell-... (cpu, 16 compute units, 31.2 GiB, OpenCL 3.0 PoCL ...)}. */
    public String describe() {
        return String.format(Locale.ROOT, "%d: %s / %s (%s, %d compute unit%s, %.1f GiB, %s%s)", index, platform, name, type,
                computeUnits, computeUnits == 1 ? "" : "s", globalMemoryBytes / (double) (1L << 30), openclVersion,
                fp64 ? ", fp64" : "");
    }
}
