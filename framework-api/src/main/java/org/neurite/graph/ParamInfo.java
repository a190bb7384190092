package org.neurite.graph;

import org.neurite.layer.ParamDecl;

/** A parameter of a typed graph: its full name ({@code c1.weight}), owning node and declaration. */
public record ParamInfo(String fullName, String node, ParamDecl decl) {}
