package org.neurite.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.inject.Module;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.layer.LayerType;
import org.neurite.tensor.Shape;

/**
 * Plugin jars loaded the way a deployment loads them: real jars built from source in a temporary
 * folder, each in its own class loader. What works (a layer from a jar, with the jar as its
 * origin) and every way a folder can be wrong, each with its exact message.
 */
class PluginLoaderTest {
    private static final String PROBE = """
            package probe;
            import java.util.List;
            import org.neurite.backend.Slice;
            import org.neurite.layer.*;
            import org.neurite.tensor.Shape;
            /** probe: copies its input. */
            public final class Probe implements LayerType {
                public String name() { return "probe"; }
                public String doc() { return "Copies its input."; }
                public ParamSchema schema() { return ParamSchema.empty(); }
                public Shape outputShape(LayerArgs args, List<Shape> inputs) { return inputs.get(0); }
                public LayerKernel compile(KernelContext context) {
                    return new LayerKernel() {
                        public void forward(ForwardPass p) { p.backend().copy(Slice.of(p.input(0)), Slice.of(p.output())); }
                        public void backward(BackwardPass p) {
                            if (p.gradInput(0) != null) p.backend().copy(Slice.of(p.gradOutput()), Slice.of(p.gradInput(0)));
                        }
                    };
                }
            }
            """;
    private static final String PROBE_PLUGIN = """
            package probe;
            public final class ProbePlugin implements org.neurite.plugin.NeuritePlugin {
                public String name() { return "probe-layers"; }
                public com.google.inject.Module module() {
                    return new org.neurite.plugin.PluginModule() { protected void configure() { layer(new Probe()); } };
                }
            }
            """;
    private static final String PROBE_BACKEND_PLUGIN = """
            package probe;
            import org.neurite.backend.Backend;
            import org.neurite.plugin.*;
            public final class ProbeBackendPlugin implements NeuritePlugin {
                public String name() { return "probe-backend"; }
                public com.google.inject.Module module() {
                    return new PluginModule() { protected void configure() { backend(new Provider()); } };
                }
                /** A backend that is never available, so nothing ever creates one. */
                static final class Provider implements BackendProvider {
                    public String name() { return "probe"; }
                    public String availability() { return "the probe backend only tests plugin loading"; }
                    public Backend create(BackendOptions options) { throw new IllegalStateException(availability()); }
                }
            }
            """;
    private static final String FAILING_CONSTRUCTOR = """
            package probe;
            public final class NeedsLicence implements org.neurite.plugin.NeuritePlugin {
                public NeedsLicence() { throw new IllegalStateException("licence file missing"); }
                public String name() { return "needs-licence"; }
                public com.google.inject.Module module() { return binder -> {}; }
            }
            """;
    private static final String FAILING_STATIC_INIT = """
            package probe;
            public final class NeedsNative implements org.neurite.plugin.NeuritePlugin {
                static final String LIBRARY = load();
                static String load() { throw new IllegalStateException("libfast.so not found"); }
                public String name() { return "needs-native"; }
                public com.google.inject.Module module() { return binder -> {}; }
            }
            """;
    private static final String FAILING_LAYER_CLASS = """
            package probe;
            public final class NativeLayers implements org.neurite.plugin.NeuritePlugin {
                static final class Native {
                    static final com.google.inject.Module MODULE = load();
                    static com.google.inject.Module load() { throw new IllegalStateException("libfast.so not found"); }
                }
                public String name() { return "native-layers"; }
                public com.google.inject.Module module() { return Native.MODULE; }
            }
            """;
    private static final String FAILING_MODULE = """
            package probe;
            public final class BrokenModule implements org.neurite.plugin.NeuritePlugin {
                public String name() { return "broken"; }
                public com.google.inject.Module module() {
                    return binder -> { throw new IllegalStateException("no layer named in config"); };
                }
            }
            """;

    @TempDir static Path build;
    private static PluginJars jars;

    @TempDir Path dir;

    @BeforeAll static void compilePlugins() throws IOException {
        jars = PluginJars.compile(build, Map.of("probe.Probe", PROBE, "probe.ProbePlugin", PROBE_PLUGIN,
                "probe.ProbeBackendPlugin", PROBE_BACKEND_PLUGIN, "probe.NeedsLicence", FAILING_CONSTRUCTOR,
                "probe.BrokenModule", FAILING_MODULE, "probe.NeedsNative", FAILING_STATIC_INIT,
                "probe.NativeLayers", FAILING_LAYER_CLASS));
    }

    /** A plugin that is on the test class path, for the jar that lists it a second time. */
    public static final class OnClassPath implements NeuritePlugin {
        @Override public String name() { return "on-class-path"; }

        @Override public Module module() { return binder -> {}; }
    }

    private static PluginException failure(Path... folders) {
        return assertThrows(PluginException.class, () -> NeuriteRuntime.discover(List.of(folders)).close());
    }

    @Test void aLayerFromAJarIsRegisteredWithTheJarAsItsOrigin() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/probe.jar"), "probe.ProbePlugin");
        Files.writeString(dir.resolve("plugins/README.txt"), "only *.jar files are plugins");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("plugins")))) {
            assertEquals(List.of("probe"), runtime.layers().names());
            assertEquals(List.of("probe-layers"), runtime.plugins().stream().map(NeuritePlugin::name).toList());
            LayerType probe = runtime.layers().find("probe").orElseThrow();
            assertEquals("probe.Probe (" + jar + ")", NeuriteRuntime.origin(probe));
            // Its own class loader, below the framework's: the API types are the framework's own.
            ClassLoader loader = probe.getClass().getClassLoader();
            assertTrue(loader instanceof URLClassLoader);
            assertEquals(List.of(jar.toUri().toURL()), List.of(((URLClassLoader) loader).getURLs()));
            assertSame(NeuriteRuntime.class.getClassLoader(), loader.getParent());
            assertEquals(Shape.of(3, 4), probe.outputShape(null, List.of(Shape.of(3, 4))));
        }
    }

    @Test void everyJarGetsItsOwnClassLoader() throws IOException {
        jars.jar(dir.resolve("a/layers.jar"), "probe.ProbePlugin");
        jars.jar(dir.resolve("b/backend.jar"), "probe.ProbeBackendPlugin");
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("a"), dir.resolve("b")))) {
            ClassLoader layers = runtime.layers().find("probe").orElseThrow().getClass().getClassLoader();
            ClassLoader backend = runtime.backends().get("probe").getClass().getClassLoader();
            assertNotSame(layers, backend);
            assertEquals("the probe backend only tests plugin loading", runtime.backends().get("probe").availability());
        }
    }

    @Test void twoCopiesOfOneLayerFailNamingBothJars() throws IOException {
        Path first = jars.jar(dir.resolve("a/probe.jar"), "probe.ProbePlugin");
        Path second = jars.jar(dir.resolve("b/probe-copy.jar"), "probe.ProbePlugin");
        assertEquals("layer 'probe' is registered twice: by probe.Probe (" + first + ") and by probe.Probe (" + second + ")",
                failure(dir.resolve("a"), dir.resolve("b")).getMessage());
    }

    @Test void aFolderNamedTwiceIsLoadedOnce() throws IOException {
        jars.jar(dir.resolve("plugins/probe.jar"), "probe.ProbePlugin");
        // As when a deployment's plugins: and --plugins name the same folder, spelled differently.
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("plugins"), dir.resolve("plugins/../plugins")))) {
            assertEquals(List.of("probe"), runtime.layers().names());
            assertEquals(1, runtime.plugins().size());
        }
    }

    @Test void twoBackendsWithOneNameFailNamingBothJars() throws IOException {
        Path first = jars.jar(dir.resolve("plugins/backend-1.jar"), "probe.ProbeBackendPlugin");
        Path second = jars.jar(dir.resolve("plugins/backend-2.jar"), "probe.ProbeBackendPlugin");
        assertEquals("backend 'probe' is registered twice: by probe.ProbeBackendPlugin$Provider (" + first
                + ") and by probe.ProbeBackendPlugin$Provider (" + second + ")", failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aMissingFolderOrAFileInsteadOfAFolder() throws IOException {
        assertEquals("plugin folder " + dir.resolve("nope") + " does not exist", failure(dir.resolve("nope")).getMessage());
        Path file = Files.writeString(dir.resolve("plugins.txt"), "");
        assertEquals("plugin folder " + file + " is not a folder", failure(file).getMessage());
    }

    @Test void aFileThatIsNotAJar() throws IOException {
        Files.createDirectories(dir.resolve("plugins"));
        Path fake = Files.writeString(dir.resolve("plugins/notes.jar"), "not a zip");
        assertEquals("plugin jar " + fake + " is not a jar file (zip END header not found)", failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aLinkToAJarThatIsGone() throws IOException {
        Path link = Files.createSymbolicLink(Files.createDirectories(dir.resolve("plugins")).resolve("swish.jar"), dir.resolve("gone/swish.jar"));
        assertEquals("plugin jar " + link + " is a link to " + dir.resolve("gone/swish.jar") + ", which does not exist",
                failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aJarWithoutAServiceFile() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/library.jar"));
        assertEquals("plugin jar " + jar + " has no META-INF/services/org.neurite.plugin.NeuritePlugin (a plugin jar names its"
                + " NeuritePlugin class there, and bundles its own dependencies)", failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aProviderClassThatIsNotInTheJar() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/typo.jar"), "probe.ProbPlugin");
        assertEquals("cannot load plugin jar " + jar + ": Provider probe.ProbPlugin not found", failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aProviderWhoseConstructorThrows() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/licensed.jar"), "probe.NeedsLicence");
        assertEquals("cannot load plugin jar " + jar + ": Provider probe.NeedsLicence could not be instantiated: "
                + "java.lang.IllegalStateException: licence file missing", failure(dir.resolve("plugins")).getMessage());
    }

    /** The plugin's own exception, not only "ExceptionInInitializerError", which says nothing. */
    @Test void aProviderWhoseStaticInitializerThrows() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/native.jar"), "probe.NeedsNative");
        assertEquals("cannot load plugin jar " + jar + ": Provider probe.NeedsNative could not be instantiated: "
                + "java.lang.ExceptionInInitializerError: java.lang.IllegalStateException: libfast.so not found",
                failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aPluginWhoseModuleClassFailsToInitialize() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/native-layers.jar"), "probe.NativeLayers");
        assertEquals("plugin probe.NativeLayers (" + jar + ") failed to create its Guice module: "
                + "java.lang.ExceptionInInitializerError: java.lang.IllegalStateException: libfast.so not found",
                failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aProviderThatIsNotAPlugin() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/wrong.jar"), "probe.Probe");
        assertEquals("cannot load plugin jar " + jar + ": probe.Probe not a subtype", failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aPluginWhoseGuiceModuleThrows() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/broken.jar"), "probe.BrokenModule");
        assertEquals("plugin probe.BrokenModule (" + jar + ") has a broken Guice module: "
                + "java.lang.IllegalStateException: no layer named in config", failure(dir.resolve("plugins")).getMessage());
    }

    @Test void aJarListingAPluginThatIsAlreadyOnTheClassPath() throws IOException {
        Path jar = jars.jar(dir.resolve("plugins/again.jar"), OnClassPath.class.getName());
        assertEquals("plugin jar " + jar + " lists " + OnClassPath.class.getName() + ", which is already on the class path ("
                + PluginJars.location(OnClassPath.class) + "/); keep one copy", failure(dir.resolve("plugins")).getMessage());
    }

    @Test void anEmptyFolderAddsNothing() throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        try (NeuriteRuntime runtime = NeuriteRuntime.discover(List.of(dir.resolve("empty")))) {
            assertEquals(List.of(), runtime.layers().names());
            assertEquals(Map.of(), runtime.backends());
        }
    }

    @Test void aBrokenServiceFileOnTheClassPathIsAMessageNotAServiceConfigurationError() throws IOException {
        Path classes = dir.resolve("classes");
        Path services = classes.resolve(PluginLoader.SERVICE_FILE);
        Files.createDirectories(services.getParent());
        Files.writeString(services, "org.example.Gone\n");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            PluginException e = assertThrows(PluginException.class, () -> NeuriteRuntime.discover(loader));
            assertEquals("cannot load a plugin on the class path (listed in " + classes + "/): Provider org.example.Gone not found",
                    e.getMessage());
        }
    }
}
