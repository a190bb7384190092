package org.neurite.dsl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.ModelException;
import org.neurite.diag.SourceSpan;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;

/**
 * A loaded {@code .nn} script: its shape-checked models (source order; models of {@code use}d
 * files are callable from it but not listed here) and the train sections it wrote (settings left
 * out take {@link TrainSpec#defaults}). {@code source} is the text the spans of the main file
 * refer to, so diagnostics found later (by the engine) can still be rendered with a caret.
 * {@code warnings} (values never used, blocks hiding layers) do not stop loading; print them with
 * the same {@code DiagnosticPrinter} as errors. {@code blockCalls} maps each model name to the
 * block calls its graph was expanded from, for tools that draw the graph.
 */
public record Script(String file, String source, List<TypedGraph> models, List<TrainSpec> trainings,
                     List<Diagnostic> warnings, Map<String, List<BlockCall>> blockCalls) {
    public Script {
        models = List.copyOf(models);
        trainings = List.copyOf(trainings);
        warnings = List.copyOf(warnings);
        blockCalls = Map.copyOf(blockCalls);
    }

    /**
     * The model called {@code name}.
     *
     * @throws ModelException when the script has no such model; the message lists those it has
     */
    public TypedGraph model(String name) {
        List<String> names = new ArrayList<>();
        for (TypedGraph m : models) {
            if (m.graph().name().equals(name)) return m;
            names.add(m.graph().name());
        }
        throw new ModelException(SourceSpan.at(file, 1, 1), "no model '" + name + "' in " + file + " (models: "
                + String.join(", ", names) + ")");
    }

    /** The model a train section names (the first section), else the last model of the file. */
    public TypedGraph mainModel() {
        if (!trainings.isEmpty()) return model(trainings.get(0).model());
        return models.get(models.size() - 1);
    }

    /** The train section written for {@code model}, if any. */
    public Optional<TrainSpec> training(String model) {
        return trainings.stream().filter(t -> t.model().equals(model)).findFirst();
    }

    /** The top-level block calls of {@code model}, in source order (empty when it calls none). */
    public List<BlockCall> blockCalls(String model) {
        return blockCalls.getOrDefault(model, List.of());
    }
}
