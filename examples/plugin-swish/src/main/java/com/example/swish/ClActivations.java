package com.example.swish;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.neurite.backend.DevicePrograms;

/**
 * The OpenCL C source of this plugin's device kernels ({@code activations.cl}, a resource next to
 * this class in the jar), read once. {@link ClSwish} and {@link ClMish} compile it through the
 * backend's {@link DevicePrograms}, which caches the built program.
 */
final class ClActivations {
    private ClActivations() {}

    /** The program's name in the backend's cache and in compiler messages. */
    static final String NAME = "example-swish/activations.cl";

    private static String source;

    static synchronized String source() {
        if (source == null) {
            try (InputStream in = ClActivations.class.getResourceAsStream("activations.cl")) {
                if (in == null) throw new IllegalStateException("activations.cl is missing from the plugin jar");
                source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read activations.cl from the plugin jar", e);
            }
        }
        return source;
    }

    /** The compiled program on the backend of {@code programs}. */
    static DevicePrograms.DeviceProgram program(DevicePrograms programs) {
        return programs.compile(NAME, source());
    }
}
