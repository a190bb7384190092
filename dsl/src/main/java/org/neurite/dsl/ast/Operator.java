package org.neurite.dsl.ast;

/** The arithmetic operators of the language, with the symbol diagnostics show. */
public enum Operator {
    PLUS("+"), MINUS("-"), TIMES("*"), DIVIDE("/");

    private final String symbol;

    Operator(String symbol) { this.symbol = symbol; }

    public String symbol() { return symbol; }
}
