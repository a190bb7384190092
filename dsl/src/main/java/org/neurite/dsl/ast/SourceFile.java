package org.neurite.dsl.ast;

import java.util.List;

/**
 * The AST of one script: its declarations and comments, each in source order. Produced by
 * {@code ScriptParser}; nothing here refers to ANTLR.
 */
public record SourceFile(String file, List<Declaration> declarations, List<Comment> comments) {
    public SourceFile {
        declarations = List.copyOf(declarations);
        comments = List.copyOf(comments);
    }

    public List<Declaration.Use> uses() { return of(Declaration.Use.class); }

    public List<ModelDecl> models() { return of(ModelDecl.class); }

    public List<BlockDecl> blocks() { return of(BlockDecl.class); }

    public List<TrainDecl> trainings() { return of(TrainDecl.class); }

    private <T extends Declaration> List<T> of(Class<T> kind) {
        return declarations.stream().filter(kind::isInstance).map(kind::cast).toList();
    }
}
