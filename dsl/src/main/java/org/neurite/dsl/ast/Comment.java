package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/** {@code # text} as written (the {@code #} included, line end excluded); kept for {@code nn fmt}. */
public record Comment(String text, SourceSpan span) {}
