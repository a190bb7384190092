package org.neurite.plugin;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds real plugin jars for the loader tests: Java sources compiled with the JDK's compiler
 * against the framework's classes (and Guice), packed with whatever service file a test needs,
 * so each test loads a jar the way a deployment does, through its own class loader.
 */
final class PluginJars {
    private final Path classes;

    private PluginJars(Path classes) {
        this.classes = classes;
    }

    /** Compiles {@code sources} (fully qualified class name → source) into {@code workDir}. */
    static PluginJars compile(Path workDir, Map<String, String> sources) throws IOException {
        Path src = workDir.resolve("src");
        Path classes = workDir.resolve("classes");
        Files.createDirectories(classes);
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-classpath",
                location(NeuritePlugin.class) + java.io.File.pathSeparator + location(com.google.inject.Module.class),
                "-proc:none", "-nowarn"));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path file = src.resolve(e.getKey().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, args.toArray(String[]::new));
        assertTrue(status == 0, "test plugin sources do not compile");
        return new PluginJars(classes);
    }

    /** A jar at {@code jar} with every compiled class and a service file listing {@code providers} (none: no file). */
    Path jar(Path jar, String... providers) throws IOException {
        Files.createDirectories(jar.getParent());
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
             Stream<Path> walk = Files.walk(classes)) {
            for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(p));
                out.closeEntry();
            }
            if (providers.length > 0) {
                out.putNextEntry(new JarEntry(PluginLoader.SERVICE_FILE));
                out.write(("# test plugin\n" + String.join("\n", providers) + "\n").getBytes(StandardCharsets.UTF_8));
                out.closeEntry();
            }
        }
        return jar;
    }

    /** The class folder or jar a class was loaded from. */
    static String location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
