package org.neurite.dsl;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The blocks and models a file's statements can call by name: its own, then those of the files
 * it {@code use}s directly (not what those files use in turn). Two different definitions under
 * one name are reported when the scope is built, so a name here is never ambiguous.
 */
final class FileScope {
    private final String file;
    private final Map<String, Callee> callees = new LinkedHashMap<>();

    FileScope(String file) {
        this.file = file;
    }

    String file() { return file; }

    Callee find(String name) { return callees.get(name); }

    Map<String, Callee> callees() { return callees; }

    /** Adds {@code callee} unless the name is taken; returns the one already there, if any. */
    Callee add(Callee callee) {
        return callees.putIfAbsent(callee.name(), callee);
    }
}
