package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/**
 * A top-level section of a script, in source order: {@link Use}, {@link ModelDecl},
 * {@link BlockDecl} or {@link TrainDecl}. {@code span} runs from the keyword to the end of the
 * section.
 */
public sealed interface Declaration permits Declaration.Use, ModelDecl, BlockDecl, TrainDecl {

    SourceSpan span();

    /** {@code use "blocks/resnet.nn"}; {@code path} is relative to the file that says it. */
    record Use(String path, SourceSpan pathSpan, SourceSpan span) implements Declaration {}
}
