package org.neurite.backend.cpu;

import java.io.IOException;
import java.io.StringReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.neurite.io.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The float vector width of the Vector API kernels in this JVM, 256 or 512 bits, chosen once (the
 * width shapes the packed GEMM and convolution layouts, {@link CpuKernels#LANES}, so it cannot
 * change while the JVM runs). In order:
 * <ol>
 *   <li>the system property {@value #PROPERTY}, else the environment variable
 *       {@value #ENVIRONMENT}: {@code 256} or {@code 512} pins the width (512
 *       runs in software on a CPU without AVX-512: correct, about 100x slower; the tests use this
 *       to cover both widths on any machine), {@code features} takes the widest the CPU runs
 *       natively without a probe (what the build's tests pin), {@code auto} (the default) goes
 *       on;</li>
 *   <li>a CPU whose widest native vector is below 512 bits has nothing to choose from: that
 *       width;</li>
 *   <li>a result cached by an earlier probe on this machine: {@link #cacheFile} holds the key
 *       (CPU model, JDK, Neurite version, {@link #key}) and the two rates; a file for another key,
 *       or one that cannot be read, is ignored (logged at DEBUG);</li>
 *   <li>otherwise 512 bits, and a probe ({@link CpuVectorWidthProbe}) times the backend's SGEMM
 *       at each width, each in a JVM of its own, started from a background thread, and the
 *       winner is cached for the next start. In the background because C2 needs 0.5-2 s of
 *       warm-up before Vector API code runs as SIMD (interpreted it is slower than scalar), far
 *       more than a start-up delay could be; each probe JVM stops once its rate has settled (see
 *       {@link CpuVectorWidthProbe#main}). In other JVMs because this one's width is fixed, and
 *       because of what a second width does to its JIT profiles (see {@link #probeAndCache}).</li>
 * </ol>
 * 256 bits wins the race only by more than {@link #MARGIN}: within the noise of a shared machine
 * the native width stays. GEMM results are the same bits at either width (every element is the
 * same fma chain over k); the direct convolution's backward-filter adds lane-wise partial sums,
 * so its last bits follow the lane count: pin the width where machines must agree bit for bit.
 */
final class CpuVectorWidth {
    /** The system property that overrides the choice: {@code auto}, {@code features}, {@code 256} or {@code 512}. */
    static final String PROPERTY = "neurite.cpu.vector";
    /** The environment variable read when the property is not set (same values); child JVMs inherit it. */
    static final String ENVIRONMENT = "NEURITE_CPU_VECTOR";
    /** 256 bits replaces a native 512 only when the probe measured it this much faster. */
    static final double MARGIN = 1.05;
    /** Both probe JVMs together: each stops once its rate has not improved, nor the JIT compiled anything, for half this long. */
    static final long MEASURED_NANOS = 150_000_000L;
    /** Rates further apart than this mean one probe measured uncompiled code: nothing is cached. */
    static final double PLAUSIBLE_RATIO = 3;
    /** A probe process whose code is still not compiled after this long gives up (nothing cached). */
    static final long PROBE_LIMIT_NANOS = 10_000_000_000L;

    private static final Logger LOG = LoggerFactory.getLogger(CpuVectorWidth.class);

    /** The width chosen, where the choice came from ({@code override}, {@code features} or {@code cache}) and why, in words. */
    record Decision(int bits, String source, String reason) {}

    /** Single-thread SGEMM rates (GFLOP/s, a 512^3 product) at each width, as a probe measured them. */
    record Rates(double at256, double at512) {
        /** 512 unless 256 was faster by more than {@link #MARGIN}. */
        int winner() { return at256 > at512 * MARGIN ? 256 : 512; }

        String describe() {
            int w = winner();
            return String.format(Locale.ROOT, "probe: %.0f vs %.0f GFLOP/s for %d-bit", w == 512 ? at512 : at256,
                    w == 512 ? at256 : at512, w == 512 ? 256 : 512);
        }
    }

    private static volatile Thread probeThread;
    private static volatile Rates probeResult;

    private CpuVectorWidth() {}

    /** This JVM's decision, made on first use (only when the Vector API module is present). */
    static Decision chosen() { return Chosen.DECISION; }

    private static final class Chosen {
        static final Decision DECISION = decideForThisJvm();
    }

    private static Decision decideForThisJvm() {
        int nativeBits = CpuVectorWidthProbe.nativeBits();
        Path file = cacheFile(key(nativeBits));
        Decision d = decide(override(), overrideSource(), nativeBits, file, key(nativeBits));
        if (d == null) {
            Thread t = new Thread(() -> probeResult = probeAndCache(file, key(nativeBits)), "neurite-cpu-vector-probe");
            t.setDaemon(true);
            t.setPriority(Thread.MIN_PRIORITY);
            probeThread = t;
            t.start();
            d = new Decision(nativeBits, "features", "the widest this CPU runs natively; a probe of 256 vs 512 bits is "
                    + "running in the background for the next start (" + file + ")");
        }
        LOG.debug("cpu backend: {}-bit vectors ({})", d.bits(), d.reason());
        return d;
    }

    /** The property's value, else the environment variable's, else null (auto). */
    static String override() { return System.getProperty(PROPERTY, System.getenv(ENVIRONMENT)); }

    /** Where {@link #override} came from, as the user set it: the property's name, else the environment variable's. */
    static String overrideSource() { return System.getProperty(PROPERTY) != null ? PROPERTY : ENVIRONMENT; }

    /** {@link #decide(String, String, int, Path, String)} with an override from the system property. */
    static Decision decide(String override, int nativeBits, Path cache, String key) {
        return decide(override, PROPERTY, nativeBits, cache, key);
    }

    /**
     * The choice without a probe, or null when a probe is needed (auto mode, a 512-bit CPU and
     * no usable cached result). {@code override} is the property's or the environment variable's
     * value (null: auto), {@code source} the name it was set under, which the reason and the
     * warning quote; an unknown value is logged and treated as auto.
     */
    static Decision decide(String override, String source, int nativeBits, Path cache, String key) {
        String mode = override == null ? "auto" : override.trim().toLowerCase(Locale.ROOT);
        switch (mode) {
            case "256", "512" -> {
                int bits = Integer.parseInt(mode);
                String software = bits > nativeBits ? ", runs in software: this CPU's widest vector is " + nativeBits + "-bit" : "";
                return new Decision(bits, "override", "set by " + source + "=" + mode + software);
            }
            case "features" -> {
                return new Decision(nativeBits, "features", "the widest this CPU runs natively (" + source + "=features: no probe)");
            }
            case "auto" -> { }
            default -> LOG.warn("{}={} is not one of auto, features, 256, 512: choosing automatically", source, override);
        }
        if (nativeBits < 512) return new Decision(nativeBits, "features", "the widest this CPU runs natively");
        Rates cached = read(cache, key);
        if (cached != null) return new Decision(cached.winner(), "cache", cached.describe() + ", cached in " + cache);
        return null;
    }

    /**
     * Times the backend's SGEMM at each width, each in a JVM of its own pinned to that width
     * ({@link CpuVectorWidthProbe#main}), and writes the result to {@code file}; null, caching
     * nothing, when a probe could not run or its code was not compiled within
     * {@link #PROBE_LIMIT_NANOS}. Not in this JVM: its width is fixed, and running Vector API code
     * at a second width makes the JIT's type profiles of the shared Vector API methods see two
     * vector classes, after which C2 boxed the backend's own vectors (CpuAllocationTest measured
     * megabytes per step after an in-process probe, nothing without).
     */
    static Rates probeAndCache(Path file, String key) {
        double at256 = runProbe(256);
        Rates rates = plausible(at256, at256 > 0 ? runProbe(512) : 0);
        if (rates != null) write(file, key, rates);
        return rates;
    }

    /**
     * The rates, or null when a probe gave none or they lie more than {@link #PLAUSIBLE_RATIO}
     * apart: then one side was still running uncompiled code (logged at DEBUG).
     */
    static Rates plausible(double at256, double at512) {
        if (!(at256 > 0 && at512 > 0)) return null;
        if (Math.max(at256, at512) > PLAUSIBLE_RATIO * Math.min(at256, at512)) {
            LOG.debug("cpu vector probe: {} vs {} GFLOP/s is not plausible; nothing cached", at256, at512);
            return null;
        }
        return new Rates(at256, at512);
    }

    /** GFLOP/s of the probe process at {@code bits}, or 0 when it gave none. */
    private static double runProbe(int bits) {
        try {
            var source = CpuVectorWidthProbe.class.getProtectionDomain().getCodeSource();
            if (source == null) return 0;
            String classPath = Path.of(source.getLocation().toURI()) + java.io.File.pathSeparator + System.getProperty("java.class.path");
            String launcher = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(launcher, "--add-modules", CpuKernels.VECTOR_MODULE, "-Xmx128m", "-D" + PROPERTY + "=" + bits,
                    "-cp", classPath, CpuVectorWidthProbe.class.getName(), Long.toString(MEASURED_NANOS / 2), Long.toString(PROBE_LIMIT_NANOS))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out;
            try {
                out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (!p.waitFor(PROBE_LIMIT_NANOS + 5_000_000_000L, TimeUnit.NANOSECONDS) || p.exitValue() != 0) {
                    LOG.debug("cpu vector probe at {} bits: the probe process failed; nothing cached", bits);
                    return 0;
                }
            } finally {
                p.destroy();
            }
            if (out.isEmpty()) {
                LOG.debug("cpu vector probe at {} bits: not compiled within {} s; nothing cached", bits, PROBE_LIMIT_NANOS / 1e9);
                return 0;
            }
            return Double.parseDouble(out);
        } catch (IOException | RuntimeException | URISyntaxException e) {
            LOG.debug("cpu vector probe could not run: {}", e.toString());
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** Whether this JVM started a background probe. */
    static boolean probeStarted() { return probeThread != null; }

    /** What this JVM's background probe measured, or null (none started, not finished, or it gave up). */
    static Rates probeResult() { return probeResult; }

    /** Waits for a background probe started by this JVM, if any, at most {@code millis}. */
    static void awaitProbe(long millis) throws InterruptedException {
        Thread t = probeThread;
        if (t != null) t.join(millis);
    }

    /** Which machine, JDK and build a cached result belongs to. */
    static String key(int nativeBits) {
        return cpuModel() + "; " + System.getProperty("os.arch") + ", " + nativeBits + "-bit native; JDK "
                + Runtime.version() + " " + System.getProperty("java.vm.name") + "; neurite " + neuriteVersion();
    }

    /** {@code $NEURITE_CACHE/cpu} or {@code ~/.cache/neurite/cpu} (the OpenCL backend's cache root), one file per key. */
    static Path cacheFile(String key) {
        String env = System.getenv("NEURITE_CACHE");
        Path root = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "neurite");
        return root.resolve("cpu").resolve("vector-width-" + Integer.toHexString(key.hashCode()) + ".properties");
    }

    /** The cached rates for {@code key}, or null (no file, another key, or unreadable: logged at DEBUG). */
    static Rates read(Path file, String key) {
        if (file == null || !Files.isRegularFile(file)) return null;
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(file, StandardCharsets.UTF_8)));
            if (!key.equals(p.getProperty("key"))) {
                LOG.debug("ignoring {}: made for {}, this is {}", file, p.getProperty("key"), key);
                return null;
            }
            double at256 = Double.parseDouble(p.getProperty("gflops256"));
            double at512 = Double.parseDouble(p.getProperty("gflops512"));
            if (!(at256 > 0 && at512 > 0 && Double.isFinite(at256) && Double.isFinite(at512))) {
                throw new IllegalArgumentException("rates must be positive: " + at256 + ", " + at512);
            }
            return new Rates(at256, at512);
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            LOG.debug("ignoring unreadable {}: {}", file, e.toString());
            return null;
        }
    }

    /** Writes the rates atomically; a cache that cannot be written only means another probe next time. */
    static void write(Path file, String key, Rates rates) {
        String text = "# Vector width of Neurite's CPU backend, chosen by a timed probe; delete to probe again\n"
                + "key=" + key.replace("\\", "\\\\") + "\n"
                + String.format(Locale.ROOT, "gflops256=%.2f%ngflops512=%.2f%nbits=%d%n", rates.at256(), rates.at512(), rates.winner());
        try {
            AtomicFiles.writeString(file, text);
        } catch (IOException e) {
            LOG.debug("could not cache the cpu vector probe: {}", e.getMessage());
        }
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or not readable: the processor identifier below.
        }
        String id = System.getenv("PROCESSOR_IDENTIFIER");
        return id != null ? id : "unknown CPU";
    }

    private static String neuriteVersion() {
        try (var in = CpuVectorWidth.class.getResourceAsStream("/META-INF/maven/org.neurite/neurite-backend-cpu/pom.properties")) {
            if (in == null) return "development build";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
