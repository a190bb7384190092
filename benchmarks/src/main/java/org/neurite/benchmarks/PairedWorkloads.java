package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;
import static org.neurite.benchmarks.CommandLineOptions.stringOption;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Whole-workload before/after figures for a change to the CPU backend on a machine shared with
 * other work: two complete Neurite stacks in one JVM, identical but for backend-cpu (a jar or a
 * classes folder each), every {@code org.neurite} class loaded by its stack's own class loader,
 * and {@link WorkloadThroughput} run in each in alternating rounds (old, new, old, ...), so both
 * see the same load. Each round is one {@code WorkloadThroughput} run (its warm-up epoch, then
 * {@code --rounds} timed epochs and inference batches); a stack's JIT-compiled code stays warm
 * from one round to its next. Printed: each round's training and inference samples per second,
 * then the medians and the median over rounds of new / old.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.PairedWorkloads --old /tmp/old-backend-cpu.jar --new backend-cpu/target/classes --pairs 11 \
 *   -- examples/resnet_small.nn --batch 64 --steps 30 --rounds 1 --threads 2</pre>
 *
 * The other Neurite jars of each stack are this module's: its own jar and the {@code neurite-*}
 * jars of {@code benchmarks/target/lib} except backend-cpu.
 */
public final class PairedWorkloads {
    private PairedWorkloads() {}

    private static final Pattern TRAIN = Pattern.compile("\"train_samples_per_second\": ([0-9.]+)");
    private static final Pattern INFER = Pattern.compile("\"infer_samples_per_second\": ([0-9.]+)");

    /** A class loader that loads {@code org.neurite} classes from its own URLs first (the rest from the parent). */
    private static URLClassLoader stack(List<URL> common, String backend) throws Exception {
        List<URL> urls = new ArrayList<>(common);
        urls.add(Path.of(backend).toUri().toURL());
        return new ChildFirstClassLoader(urls.toArray(new URL[0]), PairedWorkloads.class.getClassLoader(), "org.neurite.");
    }

    /** One {@link WorkloadThroughput} run in {@code loader}: training and inference samples per second. */
    private static double[] run(ClassLoader loader, String[] args) throws Exception {
        Thread.currentThread().setContextClassLoader(loader);
        Method main = loader.loadClass(WorkloadThroughput.class.getName()).getMethod("main", String[].class);
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            main.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } finally {
            System.setOut(out);
        }
        String line = captured.toString(StandardCharsets.UTF_8);
        Matcher train = TRAIN.matcher(line), infer = INFER.matcher(line);
        if (!train.find() || !infer.find()) throw new IllegalStateException("no figures in WorkloadThroughput's output: " + line);
        return new double[] {Double.parseDouble(train.group(1)), Double.parseDouble(infer.group(1))};
    }

    public static void main(String[] args) throws Exception {
        int split = Arrays.asList(args).indexOf("--");
        if (split < 0) throw new IllegalArgumentException("usage: --old PATH --new PATH [--pairs N] -- SCRIPT [WorkloadThroughput options]");
        String[] own = Arrays.copyOfRange(args, 0, split), workload = Arrays.copyOfRange(args, split + 1, args.length);
        String oldPath = stringOption(own, "--old", null), newPath = stringOption(own, "--new", "backend-cpu/target/classes");
        int pairs = intOption(own, "--pairs", 9);
        if (oldPath == null) throw new IllegalArgumentException("--old <jar or classes folder> is required");

        Path jar = Path.of(PairedWorkloads.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<URL> common = new ArrayList<>();
        common.add(jar.toUri().toURL());
        try (Stream<Path> lib = Files.list(jar.resolveSibling("lib"))) {
            for (Path p : lib.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith("neurite-") && !name.startsWith("neurite-backend-cpu-")) common.add(p.toUri().toURL());
            }
        }
        try (URLClassLoader oldStack = stack(common, oldPath); URLClassLoader newStack = stack(common, newPath)) {
            double[][] old = new double[2][pairs], neu = new double[2][pairs], ratio = new double[2][pairs];
            for (int r = 0; r < pairs; r++) {
                double[] o = run(oldStack, workload), n = run(newStack, workload);
                for (int j = 0; j < 2; j++) {
                    old[j][r] = o[j];
                    neu[j][r] = n[j];
                    ratio[j][r] = n[j] / o[j];
                }
                System.out.printf(Locale.ROOT, "pair %d: training %.0f -> %.0f, inference %.0f -> %.0f samples/s%n", r + 1, o[0], n[0], o[1], n[1]);
            }
            System.out.printf(Locale.ROOT, "median: training %.0f -> %.0f samples/s (median new/old %.2fx), inference %.0f -> %.0f (%.2fx)%n",
                    WorkloadThroughput.median(old[0]), WorkloadThroughput.median(neu[0]), WorkloadThroughput.median(ratio[0]),
                    WorkloadThroughput.median(old[1]), WorkloadThroughput.median(neu[1]), WorkloadThroughput.median(ratio[1]));
        }
    }
}
