package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/** {@code key = value} inside a train section. */
public record Setting(String key, SourceSpan keySpan, Expr value, SourceSpan span) {}
