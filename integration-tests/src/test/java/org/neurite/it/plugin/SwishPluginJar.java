package org.neurite.it.plugin;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The example third-party plugin's jar ({@code examples/plugin-swish}), which these tests load
 * from a plugin folder as a deployment would. Maven passes its path in
 * {@code neurite.it.swishPluginJar} and keeps it off the test class path; run from an IDE, the
 * jar is looked up in the example module's {@code target} folder.
 */
final class SwishPluginJar {
    private SwishPluginJar() {}

    static Path locate() throws IOException {
        String fromMaven = System.getProperty("neurite.it.swishPluginJar");
        if (fromMaven != null && !fromMaven.isBlank() && !fromMaven.startsWith("${")) return Path.of(fromMaven);
        Path target = Path.of("../examples/plugin-swish/target");
        if (Files.isDirectory(target)) {
            try (DirectoryStream<Path> jars = Files.newDirectoryStream(target, "example-plugin-swish-*.jar")) {
                for (Path jar : jars) {
                    String name = jar.getFileName().toString();
                    if (!name.endsWith("-tests.jar") && !name.endsWith("-sources.jar")) return jar;
                }
            }
        }
        throw new IllegalStateException("the example plugin jar is not built: run mvn -o install -pl examples/plugin-swish");
    }

    /** A copy of the jar as {@code folder/name}, creating the folder. */
    static Path copyInto(Path folder, String name) throws IOException {
        Files.createDirectories(folder);
        return Files.copy(locate(), folder.resolve(name), StandardCopyOption.REPLACE_EXISTING).toAbsolutePath();
    }
}
