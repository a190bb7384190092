package org.neurite.dsl.ast;

import org.neurite.diag.SourceSpan;

/**
 * A model or block parameter, {@code classes = 10}, {@code c}, {@code p: float = 0.5}.
 * {@code type} (with {@code typeSpan}) is null when no type is written, {@code defaultValue}
 * null when no default is; a block parameter without a default is required.
 */
public record ParamDef(String name, String type, SourceSpan typeSpan, Expr defaultValue, SourceSpan span) {}
