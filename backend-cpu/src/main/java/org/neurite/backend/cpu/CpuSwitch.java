package org.neurite.backend.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An on/off system property of the CPU backend's kernel choices ({@code -Dneurite.cpu.winograd=false}):
 * on unless set to {@code false} (any case); any other value is warned about and leaves it on.
 */
final class CpuSwitch {
    private static final Logger LOG = LoggerFactory.getLogger(CpuSwitch.class);

    private CpuSwitch() {}

    /** Whether {@code property} leaves {@code feature} (named in the warning) on. */
    static boolean isOn(String property, String feature) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank() || value.trim().equalsIgnoreCase("true")) return true;
        if (value.trim().equalsIgnoreCase("false")) return false;
        LOG.warn("-D{}={} is neither true nor false; {} stays on", property, value, feature);
        return true;
    }
}
