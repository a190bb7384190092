package org.neurite.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/**
 * What {@code nn --version} prints: the version the build wrote into {@code version.properties}
 * (the pom's, so a snapshot says so), then the Java runtime it runs on.
 */
final class BuildVersion implements CommandLine.IVersionProvider {

    /** The pom's version, e.g. {@code 0.1.0-SNAPSHOT}. */
    static String version() {
        try (InputStream in = BuildVersion.class.getResourceAsStream("version.properties")) {
            if (in == null) throw new IllegalStateException("version.properties is missing from the nn jar");
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override public String[] getVersion() {
        return new String[] {
                "Neurite " + version(),
                "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ", " + System.getProperty("java.vendor") + ")"};
    }
}
