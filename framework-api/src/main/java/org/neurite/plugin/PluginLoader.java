package org.neurite.plugin;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.jar.JarFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds {@link NeuritePlugin}s through {@link ServiceLoader}: those on a class path, and those in
 * plugin folders, where every {@code *.jar} gets a {@link URLClassLoader} of its own whose parent
 * is the framework's class loader, so all plugins share the {@code org.neurite} API classes (and
 * Guice) while their own classes stay apart. Only jars in the configured folders are loaded;
 * nothing is ever loaded by a class name taken from a script.
 *
 * <p>Everything that can go wrong becomes a {@link PluginException} naming the jar: a missing
 * folder, a file that is not a jar, a jar without a plugin, a provider class that cannot be
 * loaded or constructed, or a jar whose plugin class is already on the class path (the parent
 * would win and the jar would be silently ignored). No {@link ServiceConfigurationError} escapes.
 * The loader owns the jar class loaders; {@link #close()} releases their files.
 *
 * <p>Every plugin loaded is logged at INFO with its class and the jar it came from, and every
 * folder searched at DEBUG with the jars found, so an operator can see which copy of a plugin runs.
 */
final class PluginLoader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PluginLoader.class);

    /** Where a jar lists its {@link NeuritePlugin} implementations, one class name a line. */
    static final String SERVICE_FILE = "META-INF/services/" + NeuritePlugin.class.getName();

    private final ClassLoader parent;
    private final List<URLClassLoader> jarLoaders = new ArrayList<>();

    PluginLoader(ClassLoader parent) {
        this.parent = parent;
    }

    /** Every plugin {@code loader} lists in its {@value #SERVICE_FILE} files, in class path order. */
    static List<NeuritePlugin> fromClassPath(ClassLoader loader) {
        List<NeuritePlugin> found = new ArrayList<>();
        try {
            for (NeuritePlugin p : ServiceLoader.load(NeuritePlugin.class, loader)) {
                LOG.info("plugin {} loaded from the class path", origin(p.getClass()));
                found.add(p);
            }
        } catch (ServiceConfigurationError | LinkageError e) {
            throw new PluginException("cannot load a plugin on the class path" + listedBy(loader, e) + ": " + describe(e));
        }
        return found;
    }

    /**
     * The plugins of every jar directly inside each folder: folders in order, jars by file name. A
     * folder named twice (in the deployment and on the command line) is loaded once.
     */
    List<NeuritePlugin> fromFolders(List<Path> folders) {
        List<NeuritePlugin> found = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        for (Path folder : folders) {
            List<Path> jars = jarsIn(folder);
            LOG.debug("plugin folder {}: {} jar(s) {}", folder, jars.size(), jars.stream().map(j -> j.getFileName().toString()).toList());
            for (Path jar : jars) {
                if (seen.add(realPath(jar))) found.addAll(fromJar(jar));
            }
        }
        return found;
    }

    private static Path realPath(Path file) {
        try {
            return file.toRealPath();
        } catch (IOException e) {
            throw new PluginException("cannot read plugin jar " + file + ": " + e.getMessage());
        }
    }

    private static List<Path> jarsIn(Path folder) {
        if (!Files.exists(folder)) throw new PluginException("plugin folder " + folder + " does not exist");
        if (!Files.isDirectory(folder)) throw new PluginException("plugin folder " + folder + " is not a folder");
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder, "*.jar")) {
            for (Path p : entries) {
                if (Files.isRegularFile(p)) {
                    jars.add(p.toAbsolutePath().normalize());
                } else if (Files.isSymbolicLink(p) && !Files.exists(p)) {
                    // else skipped without a word, and the plugin's layers are just "unknown"
                    throw new PluginException("plugin jar " + p.toAbsolutePath().normalize() + " is a link to "
                            + Files.readSymbolicLink(p) + ", which does not exist");
                }
            }
        } catch (IOException e) {
            throw new PluginException("cannot list plugin folder " + folder + ": " + e.getMessage());
        }
        Collections.sort(jars);
        return jars;
    }

    /** The plugins one jar lists, each created in the jar's own class loader. */
    List<NeuritePlugin> fromJar(Path jar) {
        checkIsPluginJar(jar);
        URLClassLoader loader = new URLClassLoader("plugin " + jar.getFileName(), new URL[] {url(jar)}, parent);
        jarLoaders.add(loader);
        // ServiceLoader also sees the parent's service files; only the classes this jar lists are its
        // plugins. A listed class that the parent defines is a second copy of a class path plugin.
        Set<String> listed = providerNames(loader.findResource(SERVICE_FILE));
        List<NeuritePlugin> found = new ArrayList<>();
        try {
            for (ServiceLoader.Provider<NeuritePlugin> p : ServiceLoader.load(NeuritePlugin.class, loader).stream().toList()) {
                if (!listed.contains(p.type().getName())) continue;
                if (p.type().getClassLoader() != loader) {
                    throw new PluginException("plugin jar " + jar + " lists " + p.type().getName()
                            + ", which is already on the class path (" + location(p.type()) + "); keep one copy");
                }
                found.add(p.get());
                LOG.info("plugin {} loaded from plugin jar {} (own class loader)", p.type().getName(), jar);
            }
        } catch (ServiceConfigurationError | LinkageError e) {
            throw new PluginException("cannot load plugin jar " + jar + ": " + describe(e));
        }
        if (found.isEmpty()) {
            throw new PluginException("plugin jar " + jar + " lists no plugin class in " + SERVICE_FILE);
        }
        return found;
    }

    /** Refuses files that are not jars, and jars without a service file, before a class loader sees them. */
    private static void checkIsPluginJar(Path jar) {
        try (JarFile file = new JarFile(jar.toFile())) {
            if (file.getEntry(SERVICE_FILE) == null) {
                throw new PluginException("plugin jar " + jar + " has no " + SERVICE_FILE
                        + " (a plugin jar names its NeuritePlugin class there, and bundles its own dependencies)");
            }
        } catch (IOException e) {
            throw new PluginException("plugin jar " + jar + " is not a jar file (" + e.getMessage() + ")");
        }
    }

    /** The class names a service file lists: one a line, '#' starts a comment. */
    private static Set<String> providerNames(URL serviceFile) {
        Set<String> names = new LinkedHashSet<>();
        if (serviceFile == null) return names;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(serviceFile.openStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                int hash = line.indexOf('#');
                String name = (hash >= 0 ? line.substring(0, hash) : line).trim();
                if (!name.isEmpty()) names.add(name);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    /**
     * " (listed in /x/plugin-core.jar)" when a class path service file names a provider the error
     * message mentions, so a broken class path plugin is reported with its jar; else "".
     */
    private static String listedBy(ClassLoader loader, Throwable e) {
        String message = String.valueOf(e.getMessage());
        List<String> sources = new ArrayList<>();
        try {
            Enumeration<URL> files = loader.getResources(SERVICE_FILE);
            while (files.hasMoreElements()) {
                URL file = files.nextElement();
                for (String name : providerNames(file)) {
                    if (message.contains(name)) sources.add(containerOf(file));
                }
            }
        } catch (IOException | UncheckedIOException ignored) {
            return ""; // the message is still clear without the jar
        }
        return sources.isEmpty() ? "" : " (listed in " + String.join(", ", sources) + ")";
    }

    /** The jar or folder holding a resource: {@code jar:file:/a/b.jar!/META-INF/...} → {@code /a/b.jar}. */
    private static String containerOf(URL resource) {
        String s = resource.toString();
        if (s.startsWith("jar:")) {
            int bang = s.indexOf("!/");
            s = s.substring(4, bang < 0 ? s.length() : bang);
        } else {
            s = s.substring(0, s.length() - SERVICE_FILE.length());
        }
        return s.startsWith("file:") ? s.substring(5) : s;
    }

    /** A ServiceLoader error without its service-name prefix, with its cause. */
    private static String describe(Throwable e) {
        String message = String.valueOf(e.getMessage());
        String prefix = NeuritePlugin.class.getName() + ": ";
        if (message.startsWith(prefix)) message = message.substring(prefix.length());
        if (e instanceof LinkageError) {
            message = e.getClass().getSimpleName() + ": " + message + " (was it built against another version of Neurite?)";
        }
        Throwable cause = e.getCause();
        if (cause != null && cause != e) message += ": " + withCauses(cause);
        return message;
    }

    /**
     * {@code t} as {@code toString} says it, followed by its causes while they are what explains
     * it: "java.lang.ExceptionInInitializerError" (a static initializer threw) says nothing
     * alone, what the plugin threw is its cause.
     */
    static String withCauses(Throwable t) {
        StringBuilder s = new StringBuilder(String.valueOf(t));
        Throwable cause = t;
        for (int depth = 0; cause.getMessage() == null && cause.getCause() != null && cause.getCause() != cause && depth < 8; depth++) {
            cause = cause.getCause();
            s.append(": ").append(cause);
        }
        return s.toString();
    }

    /** {@code com.example.Swish (/plugins/swish.jar)}: a class and the jar or class folder it came from. */
    static String origin(Class<?> type) {
        return type.getName() + " (" + location(type) + ")";
    }

    private static String location(Class<?> type) {
        CodeSource source = type.getProtectionDomain().getCodeSource();
        return source == null || source.getLocation() == null ? "?" : source.getLocation().getPath();
    }

    private static URL url(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new PluginException("plugin jar path " + jar + " cannot be used: " + e.getMessage());
        }
    }

    /** Closes the jar class loaders: their classes must not be used afterwards. */
    @Override public void close() {
        for (URLClassLoader l : jarLoaders) {
            try {
                l.close();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot close the class loader of " + l.getName(), e);
            }
        }
        jarLoaders.clear();
    }
}
