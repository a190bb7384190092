package org.neurite.dsl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.ModelException;
import org.neurite.dsl.ast.BlockDecl;
import org.neurite.dsl.ast.Declaration;
import org.neurite.dsl.ast.ModelDecl;
import org.neurite.dsl.ast.SourceFile;
import org.neurite.dsl.parser.ScriptParser;
import org.neurite.io.FileErrors;

/**
 * The files one script is made of: the main file and, through {@code use "path"}, the files it
 * imports, each read and parsed once however many files use it. A path is relative to the file
 * that says it. A missing or unreadable file is an error at the {@code use}; an import cycle is
 * an error at the {@code use} that closes it, naming the whole chain; a syntax error in a used
 * file is reported in that file with a note at the {@code use}.
 *
 * <p>Once everything is read, each file gets its {@link FileScope}: its own blocks and models,
 * then those of the files it uses directly. A name defined twice, in the file or across its
 * imports, is an error with a note at the first definition.
 */
final class Imports {
    /** Longest chain of files using each other. */
    static final int MAX_DEPTH = 64;

    /** One parsed file and the scope its statements see. */
    record Loaded(String file, SourceFile ast, FileScope scope, List<Loaded> used) {}

    private final BiConsumer<String, String> sources;
    private final Map<Path, Loaded> byPath = new HashMap<>();
    private final List<Loaded> files = new ArrayList<>();
    private final List<Diagnostic> errors = new ArrayList<>();
    /** The file each {@code use} resolved to (absent when it could not be read). */
    private final Map<Declaration.Use, Loaded> targets = new IdentityHashMap<>();

    /** @param sources receives the text of every file read, for rendering diagnostics */
    Imports(BiConsumer<String, String> sources) {
        this.sources = sources;
    }

    /**
     * Reads everything {@code main} uses and builds every scope. {@code path} locates the main
     * file for relative imports (null when the text has no file: imports are then relative to the
     * working folder).
     */
    Loaded load(SourceFile main, Path path) {
        Deque<Path> chain = new ArrayDeque<>();
        Path key = key(path);
        Loaded loaded = new Loaded(main.file(), main, new FileScope(main.file()), new ArrayList<>());
        if (key != null) byPath.put(key, loaded);
        files.add(loaded);
        chain.addLast(key == null ? Path.of(main.file()) : key);
        resolveUses(loaded, path, chain);
        for (Loaded f : files) addOwn(f);
        for (Loaded f : files) addUsed(f);
        return loaded;
    }

    /** Every file read, the main file first. */
    List<Loaded> files() { return files; }

    List<Diagnostic> errors() { return errors; }

    private void resolveUses(Loaded importer, Path importerPath, Deque<Path> chain) {
        for (Declaration.Use use : importer.ast().uses()) {
            if (use.path().isBlank()) {
                // Resolved, "" is the importing script's own folder: "it is a folder" would not say what is wrong.
                errors.add(Diagnostic.error(use.pathSpan(), "use needs a file name, e.g. use \"blocks/resnet.nn\""));
                continue;
            }
            Path target;
            String display;
            try {
                Path base = importerPath == null ? null : importerPath.getParent();
                target = (base == null ? Path.of(use.path()) : base.resolve(use.path())).normalize();
                display = target.toString();
            } catch (InvalidPathException e) {
                errors.add(Diagnostic.error(use.pathSpan(), "'" + use.path() + "' is not a valid file path"));
                continue;
            }
            Path key = key(target);
            if (chain.contains(key)) {
                List<String> names = new ArrayList<>();
                boolean inCycle = false;
                for (Path p : chain) {
                    if (p.equals(key)) inCycle = true;
                    if (inCycle) names.add(byPath.containsKey(p) ? byPath.get(p).file() : p.toString());
                }
                names.add(names.get(0));
                errors.add(Diagnostic.error(use.pathSpan(), "import cycle: " + String.join(" -> ", names)));
                continue;
            }
            if (chain.size() >= MAX_DEPTH) {
                errors.add(Diagnostic.error(use.pathSpan(), "imports are nested too deeply (more than " + MAX_DEPTH
                        + " files in a chain)"));
                continue;
            }
            Loaded used = byPath.get(key);
            if (used == null) {
                used = read(use, target, display);
                if (used == null) continue;
                byPath.put(key, used);
                files.add(used);
                chain.addLast(key);
                resolveUses(used, target, chain);
                chain.removeLast();
            }
            targets.put(use, used);
            if (!importer.used().contains(used)) importer.used().add(used);
        }
    }

    /** Reads and parses one used file, or records why it cannot and returns null. */
    private Loaded read(Declaration.Use use, Path target, String display) {
        byte[] bytes;
        try {
            String why = SourceText.unreadable(target);
            if (why != null) {
                errors.add(Diagnostic.error(use.pathSpan(), "cannot use '" + use.path() + "': " + why));
                return null;
            }
            bytes = Files.readAllBytes(target);
        } catch (NoSuchFileException e) {
            errors.add(Diagnostic.error(use.pathSpan(), "cannot find '" + use.path() + "' (looked for " + display + ")"));
            return null;
        } catch (IOException e) {
            // AccessDeniedException's message is only the path: say why
            String where = display.equals(use.path()) ? "" : " (" + display + ")";
            errors.add(Diagnostic.error(use.pathSpan(), "cannot read '" + use.path() + "'" + where + ": " + FileErrors.reason(e)));
            return null;
        } catch (SecurityException e) {
            errors.add(Diagnostic.error(use.pathSpan(), "cannot read '" + use.path() + "': " + e.getMessage()));
            return null;
        }
        try {
            String text = SourceText.decode(display, bytes, sources);
            sources.accept(display, text);
            SourceFile ast = ScriptParser.parse(display, text);
            return new Loaded(display, ast, new FileScope(display), new ArrayList<>());
        } catch (ModelException e) {
            for (Diagnostic d : e.diagnostics()) errors.add(d.withNote(use.pathSpan(), "in the file used here"));
            return null;
        }
    }

    private void addOwn(Loaded f) {
        for (Declaration d : f.ast().declarations()) {
            if (!(d instanceof BlockDecl) && !(d instanceof ModelDecl)) continue;
            Callee callee = new Callee(d, f.scope());
            Callee first = f.scope().add(callee);
            if (first != null) {
                errors.add(Duplicates.diagnostic(callee.nameSpan(), "duplicate " + callee.kind() + " '" + callee.name() + "'",
                        first.nameSpan(), "'" + callee.name() + "' is first defined here"));
            }
        }
    }

    private void addUsed(Loaded f) {
        for (Declaration.Use use : f.ast().uses()) {
            Loaded used = targets.get(use);
            if (used == null) continue;
            for (Declaration d : used.ast().declarations()) {
                if (!(d instanceof BlockDecl) && !(d instanceof ModelDecl)) continue;
                Callee own = used.scope().find(new Callee(d, used.scope()).name());
                if (own == null || own.decl() != d) continue; // a duplicate inside that file, reported there
                Callee first = f.scope().add(own);
                if (first != null && first.decl() != d) {
                    errors.add(Duplicates.diagnostic(use.pathSpan(), "'" + own.name() + "' from " + used.file()
                            + " is already defined", first.nameSpan(), "'" + own.name() + "' is first defined here"));
                }
            }
        }
    }

    /** The identity of a file: its real path when it exists, else its absolute normalised path. */
    private static Path key(Path path) {
        if (path == null) return null;
        try {
            return path.toRealPath();
        } catch (IOException | SecurityException e) {
            return path.toAbsolutePath().normalize();
        }
    }
}
