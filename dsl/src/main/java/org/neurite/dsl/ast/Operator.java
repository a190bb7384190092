package org.neurite.dsl.ast;

/**
 * The operators of the language with the symbol diagnostics and {@code nn fmt} print. Arithmetic
 * works on numbers; {@code +} also joins values (the {@code add} layer) and {@code *} repeats a
 * call ({@code residual(64) * 2}); comparisons and {@code and}/{@code or}/{@code not} work on
 * numbers and bools while choosing between branches.
 */
public enum Operator {
    PLUS("+"), MINUS("-"), TIMES("*"), DIVIDE("/"),
    EQ("=="), NE("!="), LT("<"), LE("<="), GT(">"), GE(">="),
    AND("and"), OR("or"), NOT("not");

    private final String symbol;

    Operator(String symbol) { this.symbol = symbol; }

    public String symbol() { return symbol; }

    /** True for the six comparisons. */
    public boolean isComparison() {
        return this == EQ || this == NE || this == LT || this == LE || this == GT || this == GE;
    }
}
