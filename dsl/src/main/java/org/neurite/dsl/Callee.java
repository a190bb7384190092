package org.neurite.dsl;

import java.util.ArrayList;
import java.util.List;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.BlockDecl;
import org.neurite.dsl.ast.Declaration;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.ModelDecl;
import org.neurite.dsl.ast.ParamDef;
import org.neurite.dsl.ast.Statement;

/**
 * Something a script can call like a layer that is not a layer: a {@code block}, or a
 * {@code model} called like one (its inputs are the call's inputs, its one output the result).
 * {@code scope} is the file scope its body resolves callee names in, so a block from a
 * {@code use}d file keeps calling the blocks its own file can see.
 */
record Callee(Declaration decl, FileScope scope) {
    Callee {
        if (!(decl instanceof BlockDecl) && !(decl instanceof ModelDecl)) {
            throw new IllegalArgumentException("only blocks and models can be called: " + decl);
        }
    }

    String name() { return decl instanceof BlockDecl b ? b.name() : ((ModelDecl) decl).name(); }

    /** "block" or "model", as messages say it. */
    String kind() { return decl instanceof BlockDecl ? "block" : "model"; }

    boolean isBlock() { return decl instanceof BlockDecl; }

    SourceSpan nameSpan() { return decl instanceof BlockDecl b ? b.nameSpan() : ((ModelDecl) decl).nameSpan(); }

    List<ParamDef> params() { return decl instanceof BlockDecl b ? b.params() : ((ModelDecl) decl).params(); }

    List<Statement> body() { return decl instanceof BlockDecl b ? b.body() : ((ModelDecl) decl).body(); }

    /** The names the body reads its inputs by: a block's input list, a model's input statements. */
    List<Expr.Name> inputNames() {
        if (decl instanceof BlockDecl b) return b.inputs();
        List<Expr.Name> names = new ArrayList<>();
        for (Statement s : body()) if (s instanceof Statement.Input in) names.add(new Expr.Name(in.name(), in.nameSpan()));
        return names;
    }
}
