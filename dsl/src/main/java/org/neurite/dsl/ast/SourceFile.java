package org.neurite.dsl.ast;

import java.util.List;

/**
 * The AST of one script: its models and train sections, each in source order. Produced by
 * {@code ScriptParser}; nothing here refers to ANTLR.
 */
public record SourceFile(String file, List<ModelDecl> models, List<TrainDecl> trainings) {
    public SourceFile {
        models = List.copyOf(models);
        trainings = List.copyOf(trainings);
    }
}
