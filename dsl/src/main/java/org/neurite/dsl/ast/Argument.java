package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/**
 * One argument of a call: {@code 6} (positional, {@code name} is null) or {@code kernel=5}
 * (named). {@code nameSpan} covers the name of a named argument and equals {@code span} for a
 * positional one, so "unknown parameter" can point at the name and "wrong type" at the value.
 */
public record Argument(String name, SourceSpan nameSpan, Expr value, SourceSpan span) {
    public boolean isNamed() { return name != null; }
}
