package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/** A model parameter, {@code classes = 10}; {@code defaultValue} is null when none is written. */
public record ParamDef(String name, Expr defaultValue, SourceSpan span) {}
