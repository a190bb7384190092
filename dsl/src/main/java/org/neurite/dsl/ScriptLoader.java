package org.neurite.dsl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.DiagnosticPrinter;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.BlockDecl;
import org.neurite.dsl.ast.Declaration;
import org.neurite.dsl.ast.ModelDecl;
import org.neurite.dsl.ast.ParamDef;
import org.neurite.dsl.ast.SourceFile;
import org.neurite.dsl.ast.Statement;
import org.neurite.dsl.ast.TrainDecl;
import org.neurite.dsl.parser.ScriptParser;
import org.neurite.graph.LayerRegistry;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.graph.TypedGraph;
import org.neurite.tensor.Shape;
import org.neurite.train.TrainSpec;

/**
 * Loads {@code .nn} scripts: UTF-8 text → AST ({@link ScriptParser}) → the files it
 * {@code use}s ({@link Imports}) → checks on every block (parameter types, recursion) →
 * per-model expansion and shape inference ({@link ModelResolver}) → {@link Script}.
 *
 * <p>Every problem with the input is a {@link ModelException} whose diagnostics carry exact
 * spans; nothing else escapes, whatever the bytes. Each model and train section is checked on
 * its own, so one run reports the first error of every section, sorted by position.
 * {@link #render} prints them with the source line and a caret; the loader remembers the text
 * of every file it has read for that.
 */
public final class ScriptLoader {
    private final LayerRegistry registry;
    private final TrainVocabulary training;
    private final Map<String, String> sources = new ConcurrentHashMap<>();

    /** A loader for scripts over {@code registry}'s layers whose train sections name the core's losses and optimizers. */
    public ScriptLoader(LayerRegistry registry) {
        this.registry = registry;
        this.training = TrainVocabulary.core();
    }

    /** A loader for scripts over {@code runtime}'s layers, losses and optimizers: every plugin's, the core's included. */
    public ScriptLoader(NeuriteRuntime runtime) {
        this.registry = runtime.layers();
        this.training = TrainVocabulary.of(runtime);
    }

    /** Reads {@code file} as strict UTF-8 (a bad byte is a diagnostic) and parses it; {@code use} paths are relative to it. */
    public Script load(Path file) throws ModelException, IOException {
        String name = file.toString();
        String why = SourceText.unreadable(file);
        if (why != null) throw new ModelException(SourceSpan.at(name, 1, 1), "cannot read " + name + " as a script: " + why);
        byte[] bytes = Files.readAllBytes(file);
        return parse(name, SourceText.decode(name, bytes, sources::put), file);
    }

    /**
     * Parses {@code source}; {@code fileName} appears in every diagnostic and locates the files
     * the script {@code use}s.
     */
    public Script parse(String fileName, String source) throws ModelException {
        Path path;
        try {
            path = Path.of(fileName);
        } catch (InvalidPathException e) {
            path = null;
        }
        return parse(fileName, source, path);
    }

    /** {@code file:line:col: error: message}, the source line and a caret, for each diagnostic. */
    public String render(ModelException e) {
        return render(e.diagnostics());
    }

    /** The same for any diagnostics of files this loader has read, warnings included. */
    public String render(List<Diagnostic> diagnostics) {
        return new DiagnosticPrinter(sources::get).render(diagnostics);
    }

    private Script parse(String fileName, String source, Path path) {
        source = SourceText.withoutByteOrderMark(source);
        sources.put(fileName, source);
        try {
            return resolve(ScriptParser.parse(fileName, source), source, path);
        } catch (StackOverflowError e) {
            // The parser guards nesting depth; this is the backstop for a JVM with a tiny stack.
            throw new ModelException(SourceSpan.at(fileName, 1, 1), "script is nested too deeply to process");
        }
    }

    private Script resolve(SourceFile ast, String source, Path path) {
        if (ast.models().isEmpty()) throw new ModelException(SourceSpan.at(ast.file(), 1, 1), "no model defined");
        Imports imports = new Imports(sources::put);
        Imports.Loaded main = imports.load(ast, path);
        List<Diagnostic> errors = new ArrayList<>(imports.errors());
        List<Diagnostic> warnings = new ArrayList<>();
        for (Imports.Loaded f : imports.files()) checkDeclarations(f, errors, warnings);
        if (errors.isEmpty()) errors.addAll(Recursion.check(imports.files()));
        if (!errors.isEmpty()) throw sorted(errors, ast.file());

        Usage usage = new Usage();
        List<TypedGraph> models = new ArrayList<>();
        Map<String, List<BlockCall>> calls = new LinkedHashMap<>();
        Set<String> modelNames = new LinkedHashSet<>();
        Map<String, Shape> inputs = new HashMap<>();   // what a train section's augment is checked against
        for (ModelDecl m : ast.models()) {
            Callee callee = main.scope().find(m.name());
            if (callee == null || callee.decl() != m) continue; // a duplicate, reported by Imports
            modelNames.add(m.name());
            try {
                ModelResolver.Result r = ModelResolver.resolve(registry, callee, usage);
                models.add(r.graph());
                var declared = r.graph().graph().inputs();
                if (!declared.isEmpty()) inputs.put(m.name(), r.graph().shape(declared.get(0).name()));
                calls.put(m.name(), r.calls());
            } catch (ModelException e) {
                errors.addAll(e.diagnostics());
            }
        }
        List<TrainSpec> trainings = new ArrayList<>();
        Map<String, TrainDecl> trained = new HashMap<>();
        for (TrainDecl t : ast.trainings()) {
            TrainDecl first = trained.putIfAbsent(t.model(), t);
            if (first != null) {
                errors.add(Duplicates.diagnostic(t.modelSpan(), "model '" + t.model() + "' has two train sections",
                        first.modelSpan(), "the first is here"));
                continue;
            }
            try {
                trainings.add(TrainResolver.resolve(t, modelNames, inputs, training));
            } catch (ModelException e) {
                errors.addAll(e.diagnostics());
            }
        }
        if (!errors.isEmpty()) throw sorted(errors, ast.file());
        warnings.addAll(usage.warnings());
        return new Script(ast.file(), source, models, trainings, warnings, calls);
    }

    /**
     * Checks what can be checked on a block or model without calling it: which statements its
     * body may hold (a block: no input or output, one return, last; a model: no return), and
     * that declared parameter types exist and agree with literal defaults. A block named like a
     * layer hides the layer where the block is visible, which is worth a warning.
     */
    private void checkDeclarations(Imports.Loaded f, List<Diagnostic> errors, List<Diagnostic> warnings) {
        for (Declaration d : f.ast().declarations()) {
            if (!(d instanceof BlockDecl) && !(d instanceof ModelDecl)) continue;
            Callee c = new Callee(d, f.scope());
            Diagnostic shape = bodyShape(c);
            if (shape != null) errors.add(shape);
            Diagnostic twice = c.isBlock() ? nameDefinedTwice(c) : null;
            if (twice != null) errors.add(twice);
            for (ParamDef p : c.params()) {
                if (p.type() != null && !BlockArguments.TYPES.contains(p.type())) {
                    errors.add(Diagnostic.error(p.typeSpan(), "unknown type '" + p.type() + "' (types: "
                            + String.join(", ", BlockArguments.TYPES) + ")"));
                    continue;
                }
                String literal = BlockArguments.declaredType(new ParamDef(p.name(), null, null, p.defaultValue(), p.span()));
                if (p.type() != null && literal != null && !compatible(p.type(), literal)) {
                    errors.add(Diagnostic.error(p.defaultValue().span(), "parameter '" + p.name() + "' is declared "
                            + p.type() + " but its default is " + literal));
                }
            }
            if (d instanceof BlockDecl b && registry.find(b.name()).isPresent()) {
                warnings.add(Diagnostic.warning(b.nameSpan(), "block '" + b.name() + "' hides the layer '" + b.name()
                        + "' wherever the block is visible"));
            }
        }
    }

    /** The first statement that does not belong in {@code c}'s body, or a block's missing return; null if none. */
    private static Diagnostic bodyShape(Callee c) {
        boolean returned = false;
        for (Statement s : c.body()) {
            if (returned) return Diagnostic.error(s.span(), "statement after 'return'; a block ends with its 'return'");
            if (c.isBlock() && s instanceof Statement.Input) {
                return Diagnostic.error(s.span(), "'input' belongs in a model; a block lists its inputs after its "
                        + "parameters: block " + c.name() + "(...)(x)");
            }
            if (c.isBlock() && s instanceof Statement.Apply a && a.output()) {
                return Diagnostic.error(s.span(), "'output' belongs in a model; a block gives back its value with 'return'");
            }
            if (s instanceof Statement.Return) {
                if (!c.isBlock()) {
                    return Diagnostic.error(s.span(), "'return' belongs in a block; a model marks its results with "
                            + "'output <name> = ...'");
                }
                returned = true;
            }
        }
        if (c.isBlock() && !returned) {
            return Diagnostic.error(c.nameSpan(), "block '" + c.name() + "' has no 'return'; end it with 'return <value>'");
        }
        return null;
    }

    /**
     * A block's first name defined twice, among its parameters, its inputs and its named
     * statements, in the order a call defines them; null if none. A call would find it too, but
     * only a call: this finds it in every block, and before a call reports something else.
     */
    private static Diagnostic nameDefinedTwice(Callee c) {
        Map<String, SourceSpan> seen = new HashMap<>();
        List<Map.Entry<String, SourceSpan>> names = new ArrayList<>();
        for (ParamDef p : c.params()) names.add(Map.entry(p.name(), p.span()));
        for (var in : c.inputNames()) names.add(Map.entry(in.name(), in.span()));
        for (Statement s : c.body()) {
            if (s instanceof Statement.Apply a && a.name() != null) names.add(Map.entry(a.name(), a.nameSpan()));
        }
        for (Map.Entry<String, SourceSpan> n : names) {
            SourceSpan first = seen.putIfAbsent(n.getKey(), n.getValue());
            if (first != null) {
                return Duplicates.diagnostic(n.getValue(), "duplicate name '" + n.getKey() + "'", first,
                        "'" + n.getKey() + "' is first defined here");
            }
        }
        return null;
    }

    private static boolean compatible(String declared, String literal) {
        return declared.equals(literal) || (declared.equals("float") && literal.equals("int"));
    }

    /** Errors of the main file first, then by file, line and column. */
    private static ModelException sorted(List<Diagnostic> errors, String mainFile) {
        List<Diagnostic> out = new ArrayList<>(errors);
        out.sort(Comparator.comparing((Diagnostic d) -> !d.span().file().equals(mainFile))
                .thenComparing(d -> d.span().file())
                .thenComparingInt(d -> d.span().line())
                .thenComparingInt(d -> d.span().column()));
        return new ModelException(out);
    }
}
