package org.neurite.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The folder one {@code nn train} writes, held with a lock file so that no other run writes there
 * at the same time, and chosen so that no finished run is written over.
 *
 * <p>A folder <em>holds a run</em> when it has {@code model.safetensors}, {@code checkpoint.safetensors}
 * or {@code metrics.jsonl}. A folder chosen by default ({@code runs/<model>}) that holds a run or
 * any other file a run writes ({@link #OUTPUT_FILES}), or that another live run has locked, gives
 * way to the first free sibling: {@code runs/LeNet5-2}, {@code runs/LeNet5-3}, … A folder the user
 * named ({@code --out}) that holds such files is refused unless {@code --overwrite}, which removes
 * the old run's files ({@link #replacePreviousRun()}); one that is locked is refused, with or
 * without {@code --overwrite}, naming the holder's PID, and so is {@code --resume} of a locked run.
 * A run that fails before it starts ({@link #started()}) removes the folder again if it created it.
 *
 * <p>The lock is {@value #LOCK} in the folder, created with {@code CREATE_NEW} (so of two runs
 * starting together exactly one gets it), holding {@code pid=}, {@code host=} and {@code started=}
 * of the process. {@link #close()} deletes it, as does a shutdown hook on SIGTERM; a process killed
 * outright (SIGKILL, a second Ctrl-C) leaves it behind, and the next run on the same host sees that
 * its PID is no longer alive (or is a newer process with the same PID), says so in one line and
 * replaces it. A lock from another host is never judged stale: the message names the file to delete.
 */
final class RunFolder implements AutoCloseable {
    static final String LOCK = ".lock";
    /** Where default run folders go, {@code runs} unless this system property says otherwise (tests set it). */
    static final String ROOT_PROPERTY = "neurite.runs";
    /** The files whose presence means a folder already holds a run. */
    static final List<String> RUN_FILES = List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl");
    /**
     * Every file a run writes into its folder (and {@code nn report} beside them): what a named
     * folder must not hold without {@code --overwrite}, and what {@code --overwrite} removes of the
     * run it replaces, so that no file of the old run survives beside the new run's. The scripts a
     * run copies beside {@code model.nn} ({@link RunRecord#USED_SCRIPTS}) are listed in the folder.
     */
    static final List<String> OUTPUT_FILES = List.of("model.safetensors", "checkpoint.safetensors", "metrics.jsonl",
            "model.nn", "summary.txt", "graph.dot", "command.txt", "deployment.yaml", "evaluation.json",
            "loss.png", "accuracy.png", "confusion.png", "grad_norms.csv", "grad_norms.png", "report.html");

    /** How the folder was chosen, which decides what happens when it is taken. */
    enum Choice {
        /** {@code runs/<model>}: a taken folder gives way to the next free sibling. */
        DEFAULT,
        /** {@code --out DIR}: a folder that holds a run is refused. */
        NAMED,
        /** {@code --out DIR --overwrite}: the run there replaced, unless another run holds it. */
        OVERWRITE,
        /** {@code --resume DIR}: the run's own folder, continued. */
        RESUME
    }

    private final Path dir;
    private final Path lock;
    private final String owner;
    private final Thread onExit;
    /** The folders {@link #take} created, innermost first: removed again when the run never starts. */
    private List<Path> created = List.of();
    private boolean started;

    private RunFolder(Path dir, Path lock, String owner) {
        this.dir = dir;
        this.lock = lock;
        this.owner = owner;
        this.onExit = new Thread(this::release, "nn-run-lock");
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    /** The default parent of run folders: {@code runs}, or the {@value #ROOT_PROPERTY} system property. */
    static Path defaultRoot() {
        return Path.of(System.getProperty(ROOT_PROPERTY, "runs"));
    }

    /**
     * Locks the folder to write a run into: {@code wanted} itself, or with {@link Choice#DEFAULT}
     * the first of {@code wanted-2}, {@code wanted-3}, … that holds no run and no live lock.
     *
     * @param err where a replaced stale lock is reported, in one line
     * @throws BadInputException when a named folder holds a run (without {@code --overwrite}) or
     *     another live run holds the folder's lock
     */
    static RunFolder take(Path wanted, Choice choice, PrintWriter err) throws IOException {
        return take(wanted, choice, List.of(), err);
    }

    /**
     * {@link #take(Path, Choice, PrintWriter)} for a run that also writes {@code alsoWritten}
     * (paths relative to the folder: the scripts it copies), which a folder must not hold either.
     */
    static RunFolder take(Path wanted, Choice choice, List<String> alsoWritten, PrintWriter err) throws IOException {
        for (int n = 1; ; n++) {
            Path dir = n == 1 ? wanted : wanted.resolveSibling(wanted.getFileName() + "-" + n);
            if (choice == Choice.DEFAULT && !outputFiles(dir, alsoWritten).isEmpty()) continue;
            if (choice == Choice.RESUME) checkpointToResume(dir);
            List<Path> created = createDirectories(dir);
            Path lock = dir.resolve(LOCK);
            Optional<RunFolder> taken = tryLock(dir, lock, err);
            if (taken.isEmpty()) {
                removeEmpty(created);
                if (choice == Choice.DEFAULT) continue;
                throw new BadInputException(dir + " is in use by another nn train (" + describe(read(lock))
                        + "); wait for it to finish, or delete " + lock + " if that run is gone");
            }
            taken.get().created = created;
            // Checked (again) under the lock: a run that finished here since the first look is not written over.
            List<String> found = choice == Choice.DEFAULT || choice == Choice.NAMED ? outputFiles(dir, alsoWritten) : List.of();
            if (found.isEmpty()) return taken.get();
            taken.get().close();
            if (choice == Choice.NAMED) {
                List<String> runs = runFiles(dir);
                if (!runs.isEmpty()) throw new BadInputException(dir + " already holds a run (" + String.join(", ", runs)
                        + "); choose another --out, add --overwrite to write over it, or continue it with --resume " + dir);
                throw new BadInputException(dir + " holds files this run would write over (" + String.join(", ", found)
                        + "); choose another --out, or add --overwrite to replace them");
            }
        }
    }

    /**
     * The checkpoint {@code --resume dir} continues from.
     *
     * @throws BadInputException when {@code dir} is not a run folder with a checkpoint
     */
    static Path checkpointToResume(Path dir) {
        Path checkpoint = dir.resolve("checkpoint.safetensors");
        if (Files.isRegularFile(checkpoint)) return checkpoint;
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new BadInputException(dir + ": a file, not a folder");
        throw new BadInputException(dir + (Files.isDirectory(dir) ? " holds no run to resume (no checkpoint.safetensors)"
                : " does not exist") + "; --resume takes the folder of a run that was stopped");
    }

    /** Creates {@code dir} and its missing parents; returns those it created, innermost first. */
    private static List<Path> createDirectories(Path dir) throws IOException {
        List<Path> missing = new ArrayList<>();
        for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.exists(p); p = p.getParent()) missing.add(p);
        Files.createDirectories(dir);
        return missing;
    }

    /** Removes the folders of {@code created} (innermost first) that are empty, stopping at the first that is not. */
    private static void removeEmpty(List<Path> created) {
        for (Path p : created) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException notEmpty) {
                return;
            }
        }
    }

    /**
     * Marks the run as started: from here on the folder is the run's, and {@link #close()} leaves
     * it. Before, a failure (a refused resume, weights that do not fit, ...) leaves no trace:
     * the folder is removed again if this run created it.
     */
    void started() { started = true; }

    /**
     * Under {@code --overwrite}: removes the files of the run this one replaces ({@link #OUTPUT_FILES}
     * and the scripts it copied), so that none of them survives beside the new run's, even if
     * the new run stops early. The user's other files in the folder stay.
     */
    void replacePreviousRun() throws IOException {
        for (String copied : RunRecord.usedScripts(dir)) RunRecord.deleteCopy(dir, copied);
        Files.deleteIfExists(dir.resolve(RunRecord.USED_SCRIPTS));
        for (String f : OUTPUT_FILES) Files.deleteIfExists(dir.resolve(f));
    }

    /** The folder this run writes. */
    Path dir() { return dir; }

    /** Which of {@link #RUN_FILES} {@code dir} has. */
    static List<String> runFiles(Path dir) {
        return RUN_FILES.stream().filter(f -> Files.exists(dir.resolve(f))).toList();
    }

    /** Which of {@link #OUTPUT_FILES} and {@code alsoWritten} {@code dir} has. */
    static List<String> outputFiles(Path dir, List<String> alsoWritten) {
        return java.util.stream.Stream.concat(OUTPUT_FILES.stream(), alsoWritten.stream()).distinct()
                .filter(f -> Files.exists(dir.resolve(f))).toList();
    }

    /** Creates the lock, replacing a stale one; empty when a live process holds it. */
    private static Optional<RunFolder> tryLock(Path dir, Path lock, PrintWriter err) throws IOException {
        String owner = ownerOf(ProcessHandle.current());
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                Files.writeString(lock, owner, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                return Optional.of(new RunFolder(dir, lock, owner));
            } catch (FileAlreadyExistsException held) {
                String holder = read(lock);
                if (holder == null) continue;                 // released between the two calls
                if (!isStale(holder)) return Optional.empty();
                // Deleted only if it is still the lock judged stale, so a fresh lock of a third run is left alone.
                if (holder.equals(read(lock))) {
                    Files.deleteIfExists(lock);
                    err.println("nn: replaced the stale lock " + lock + " (" + describe(holder) + ", no longer running)");
                    err.flush();
                }
            }
        }
        return Optional.empty();
    }

    /** A lock whose process is gone: same host, and no live process with its PID and start time. */
    static boolean isStale(String holder) {
        String host = field(holder, "host");
        if (host == null || !host.equals(hostName())) return false;
        long pid;
        try {
            pid = Long.parseLong(field(holder, "pid"));
        } catch (NumberFormatException | NullPointerException e) {
            return false;
        }
        Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) return true;
        String started = field(holder, "started");
        // Same PID, later start: the PID was reused (a container's PID 1, a rebooted machine).
        return started != null && process.get().info().startInstant().map(t -> !t.toString().equals(started)).orElse(false);
    }

    /** What a lock file holds for {@code process}. */
    static String ownerOf(ProcessHandle process) {
        return "pid=" + process.pid() + "\nhost=" + hostName() + "\n"
                + process.info().startInstant().map(t -> "started=" + t + "\n").orElse("");
    }

    /** "PID 1234 on host build-7". */
    static String describe(String holder) {
        if (holder == null) return "PID unknown";
        String pid = field(holder, "pid");
        String host = field(holder, "host");
        return "PID " + (pid != null ? pid : "unknown") + (host != null ? " on host " + host : "");
    }

    private static String field(String holder, String name) {
        return holder.lines().filter(l -> l.startsWith(name + "=")).map(l -> l.substring(name.length() + 1).trim())
                .findFirst().orElse(null);
    }

    private static String read(Path lock) throws IOException {
        try {
            return new String(Files.readAllBytes(lock), StandardCharsets.UTF_8);   // lenient: a garbled lock is still a lock
        } catch (NoSuchFileException gone) {
            return null;
        }
    }

    static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Removes the folder this run created, with what it wrote there, and the parents it created. */
    private void removeCreated() {
        try (var files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir) && !p.equals(lock)) Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            return;   // left as it is: the next run sees what is there
        }
        release();
        removeEmpty(created);
    }

    /** Removes the lock, if it is still this run's. */
    private synchronized void release() {
        try {
            if (owner.equals(read(lock))) Files.deleteIfExists(lock);
        } catch (IOException e) {
            // Left behind: the next run sees a dead PID and replaces it.
        }
    }

    @Override public void close() {
        if (!started && !created.isEmpty()) removeCreated();
        release();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or has run; the lock is released either way.
        }
    }
}
