package org.neurite.diag;

/** A place in a source file, 1-based line and column, end inclusive-exclusive as the lexer reports. */
public record SourceSpan(String file, int line, int column, int endLine, int endColumn) {
    public static final SourceSpan UNKNOWN = new SourceSpan("<unknown>", 0, 0, 0, 0);

    public static SourceSpan at(String file, int line, int column) {
        return new SourceSpan(file, line, column, line, column + 1);
    }

    public boolean isKnown() { return line > 0; }

    /** {@code file:line:col}. */
    @Override public String toString() { return file + ":" + line + ":" + column; }
}
