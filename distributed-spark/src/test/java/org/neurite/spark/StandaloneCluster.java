package org.neurite.spark;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster on this machine, as {@code sbin/start-master.sh} and
 * {@code start-worker.sh} would start it: one master and {@code N} worker processes, each its own
 * JVM running Spark's own {@code org.apache.spark.deploy.master.Master} or
 * {@code ...deploy.worker.Worker}, every port random and bound to 127.0.0.1 (the daemons' status
 * pages too: standalone daemons always start one). Each worker offers one core, so a driver gets
 * one single-core executor per worker, which the worker starts as a child JVM.
 *
 * <p>The cluster's Spark installation is a folder laid out as a Spark distribution
 * ({@code jars/}, which the workers also put on their executors' class path): every jar of this
 * JVM's class path except Neurite's own, so the libraries Neurite shares with Spark (Jackson) are
 * the cluster's. Neurite reaches the executors only as an application's jars
 * ({@link #applicationJars}, for {@code spark.jars}, what {@code spark-submit --jars} sets),
 * fetched from the driver and loaded by the executor's application class loader, as on a real
 * cluster.
 *
 * <p>Every wait is bounded; {@link #close()} kills whatever is still running (workers'
 * executors first), and a shutdown hook does the same if the test JVM exits first.
 */
final class StandaloneCluster implements AutoCloseable {
    private static final Pattern MASTER_URL = Pattern.compile("Starting Spark master at (spark://\\S+)");
    private static final String REGISTERED = "Successfully registered with master";
    /**
     * JVM options of the master and worker daemons: a small heap (executors get
     * spark.executor.memory) and the quick-starting compiler, for daemons that mostly wait.
     */
    private static final List<String> DAEMON_OPTIONS = List.of("-Xmx192m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private final Path dir;
    private final Path sparkHome;
    private final List<String> jvmFlags;
    private final List<Process> processes = new ArrayList<>();
    private final List<ProcessHandle> children = new ArrayList<>();
    private final List<Process> workers = new ArrayList<>();
    private final Thread cleanup = new Thread(this::killAll, "standalone-cluster-cleanup");
    private String masterUrl;

    private StandaloneCluster(Path dir) throws IOException {
        this.dir = dir;
        this.sparkHome = dir.resolve("spark-home");
        this.jvmFlags = jvmFlags();
        Files.createDirectories(sparkHome.resolve("jars"));
        for (Path jar : classPath()) {
            if (!isNeurite(jar) && Files.isRegularFile(jar)) {
                Path link = sparkHome.resolve("jars").resolve(jar.getFileName());
                if (!Files.exists(link)) Files.createSymbolicLink(link, jar.toAbsolutePath());
            }
        }
        Runtime.getRuntime().addShutdownHook(cleanup);
    }

    /**
     * Starts a master and {@code workers} workers of one core and {@code workerMemory} each, and
     * returns once every worker has registered with the master.
     *
     * @param dir a fresh folder for the installation, the daemons' logs and the workers' work folders
     * @throws IllegalStateException when a daemon does not come up within {@code timeout}, with its log's end
     */
    static StandaloneCluster start(Path dir, int workers, String workerMemory, Duration timeout) throws IOException, InterruptedException {
        StandaloneCluster c = new StandaloneCluster(dir);
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            Path masterLog = dir.resolve("master.log");
            c.processes.add(c.launch("org.apache.spark.deploy.master.Master", masterLog,
                    List.of("--host", "127.0.0.1", "--port", "0", "--webui-port", "0")));
            c.masterUrl = c.awaitLine(masterLog, MASTER_URL, deadline).group(1);
            List<Path> logs = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                Path log = dir.resolve("worker-" + w + ".log");
                Path work = Files.createDirectories(dir.resolve("work-" + w));
                Process p = c.launch("org.apache.spark.deploy.worker.Worker", log, List.of("--host", "127.0.0.1", "--port", "0",
                        "--webui-port", "0", "--cores", "1", "--memory", workerMemory, "--work-dir", work.toString(), c.masterUrl));
                c.processes.add(p);
                c.workers.add(p);
                logs.add(log);
            }
            for (Path log : logs) c.awaitLine(log, Pattern.compile(Pattern.quote(REGISTERED)), deadline);
            return c;
        } catch (IOException | InterruptedException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** The master's URL, {@code spark://127.0.0.1:PORT}. */
    String masterUrl() { return masterUrl; }

    /** The work folder of worker {@code w}: {@code <app id>/<executor id>/} for each executor it ran. */
    Path workDir(int w) { return dir.resolve("work-" + w); }

    /** The executor ids worker {@code w} has started for the application {@code appId}. */
    List<String> executorsOf(int w, String appId) throws IOException {
        Path app = workDir(w).resolve(appId);
        if (!Files.isDirectory(app)) return List.of();
        try (Stream<Path> s = Files.list(app)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /**
     * Pauses worker {@code w}'s executor JVMs with SIGSTOP: a task handed to one from now on
     * stays in flight, whatever the timing, until {@link #killWorker} ends it.
     */
    void pauseExecutors(int w) throws IOException, InterruptedException {
        for (ProcessHandle executor : workers.get(w).toHandle().children().toList()) {
            Process kill = new ProcessBuilder("kill", "-STOP", Long.toString(executor.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("cannot pause executor process " + executor.pid());
            }
        }
    }

    /**
     * Kills worker {@code w} as a machine that dies: its JVM and its executors' with SIGKILL
     * ({@link ProcessHandle#destroyForcibly()}), so nothing of Spark's shuts down cleanly; the
     * driver and the master find out from the lost connections.
     */
    void killWorker(int w) {
        ProcessHandle worker = workers.get(w).toHandle();
        List<ProcessHandle> dying = new ArrayList<>(worker.descendants().toList());
        dying.add(worker);
        children.addAll(dying);
        for (ProcessHandle h : dying) h.destroyForcibly();
        for (ProcessHandle h : dying) {
            try {
                h.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("process " + h.pid() + " of worker " + w + " survived SIGKILL for 30 s", e);
            }
        }
    }

    /**
     * The jars an application sends with {@code spark.jars}: Neurite's jars on this class path,
     * and its class folders (this module's {@code target/classes} while the tests run) packed as
     * jars into {@code dir/app-jars}. Test classes stay on the driver.
     */
    List<Path> applicationJars() throws IOException {
        Path out = Files.createDirectories(dir.resolve("app-jars"));
        List<Path> jars = new ArrayList<>();
        for (Path entry : classPath()) {
            if (!isNeurite(entry)) continue;
            if (Files.isRegularFile(entry)) {
                jars.add(entry.toAbsolutePath());
            } else if (Files.isDirectory(entry) && !entry.getFileName().toString().equals("test-classes")) {
                // <module>/target/classes -> <module>-classes.jar
                Path jar = out.resolve(entry.toAbsolutePath().getParent().getParent().getFileName() + "-classes.jar");
                pack(entry, jar);
                jars.add(jar);
            }
        }
        return jars;
    }

    /** The last lines of every daemon log, for a failure message. */
    String logTails() {
        StringBuilder b = new StringBuilder();
        try (Stream<Path> logs = Files.list(dir)) {
            for (Path log : logs.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = List.of(new String(Files.readAllBytes(log), StandardCharsets.UTF_8).split("\n"));
                b.append("--- ").append(log.getFileName()).append('\n');
                lines.subList(Math.max(0, lines.size() - 15), lines.size()).forEach(l -> b.append(l).append('\n'));
            }
        } catch (IOException e) {
            b.append("(cannot read the logs: ").append(e.getMessage()).append(")\n");
        }
        return b.toString();
    }

    @Override public void close() {
        killAll();
        try {
            Runtime.getRuntime().removeShutdownHook(cleanup);
        } catch (IllegalStateException alreadyShuttingDown) {
            // the hook is running or has run
        }
    }

    /** SIGKILL to every executor and daemon this cluster started, executors first; waits up to 10 s each. */
    private synchronized void killAll() {
        List<ProcessHandle> all = new ArrayList<>(children);
        for (Process p : processes) all.addAll(p.toHandle().descendants().toList());
        for (Process p : processes) all.add(p.toHandle());
        for (ProcessHandle h : all) h.destroyForcibly();
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                // Reported by nothing: a process that outlives SIGKILL for 10 s is the kernel's to reap.
            }
        }
    }

    private Process launch(String mainClass, Path log, List<String> args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(DAEMON_OPTIONS);
        command.addAll(jvmFlags);
        command.add("-cp");
        command.add(sparkHome.resolve("jars") + File.separator + "*");
        command.add(mainClass);
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_LOCAL_IP", "127.0.0.1");   // the daemons' status pages; executors inherit it
        env.put("SPARK_SCALA_VERSION", "2.12");   // how a worker builds an executor's command without a Spark build tree
        env.remove("SPARK_CONF_DIR");
        return pb.start();
    }

    /** Waits for a line of {@code log} matching {@code pattern}; fails at {@code deadline} or when the daemon exits. */
    private Matcher awaitLine(Path log, Pattern pattern, long deadline) throws IOException, InterruptedException {
        while (true) {
            if (Files.exists(log)) {
                // Decoded leniently: the daemon may be in the middle of writing a line.
                for (String line : new String(Files.readAllBytes(log), StandardCharsets.UTF_8).split("\n")) {
                    Matcher m = pattern.matcher(line);
                    if (m.find()) return m;
                }
            }
            boolean exited = processes.stream().anyMatch(p -> !p.isAlive());
            if (exited || System.nanoTime() > deadline) {
                throw new IllegalStateException((exited ? "a Spark daemon exited" : "timed out") + " waiting for '" + pattern
                        + "' in " + log + "\n" + logTails());
            }
            Thread.sleep(100);
        }
    }

    /**
     * The JVM flags Spark needs on Java 17, as this test JVM got them from the pom
     * ({@code neurite.jvmArgs} and {@code spark.jvmArgs}): the opened packages and the rest.
     */
    private static List<String> jvmFlags() {
        return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> a.startsWith("--add-opens") || a.startsWith("--add-modules") || a.startsWith("-Djdk.reflect."))
                .toList();
    }

    /** This JVM's class path: Surefire's test class path when it runs the test, else {@code java.class.path}. */
    static List<Path> classPath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        return Stream.of(cp.split(File.pathSeparator)).filter(s -> !s.isBlank()).map(Path::of).toList();
    }

    /** A Neurite artefact: a {@code neurite-*.jar}, or a module's class folder. */
    private static boolean isNeurite(Path entry) {
        return Files.isDirectory(entry) || entry.getFileName().toString().startsWith("neurite-");
    }

    private static void pack(Path folder, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
             Stream<Path> files = Files.walk(folder)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new JarEntry(folder.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }
}
