package org.neurite.dsl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.neurite.diag.Diagnostic;
import org.neurite.diag.SourceSpan;
import org.neurite.dsl.ast.Argument;
import org.neurite.dsl.ast.BlockDecl;
import org.neurite.dsl.ast.Call;
import org.neurite.dsl.ast.Declaration;
import org.neurite.dsl.ast.Expr;
import org.neurite.dsl.ast.ModelDecl;
import org.neurite.dsl.ast.ParamDef;
import org.neurite.dsl.ast.Statement;

/**
 * Finds blocks (and models) that call themselves, directly or through others, before anything
 * is expanded: a call graph over every file of the script, read from the source (calls in both
 * branches of a conditional count, and so do blocks nothing calls), searched depth first without
 * recursion. Each cycle is one error at the call that starts it, naming the whole cycle
 * ({@code block 'a' is recursive: a -> b -> a}), with a note at every other call in it.
 */
final class Recursion {
    /** A call from one callee's body to another. */
    private record Edge(Callee to, SourceSpan at) {}

    private final Map<Callee, List<Edge>> edges = new IdentityHashMap<>();

    private Recursion() {}

    static List<Diagnostic> check(List<Imports.Loaded> files) {
        Recursion r = new Recursion();
        List<Callee> all = new ArrayList<>();
        for (Imports.Loaded f : files) {
            for (Declaration d : f.ast().declarations()) {
                if (!(d instanceof BlockDecl) && !(d instanceof ModelDecl)) continue;
                Callee c = f.scope().find(new Callee(d, f.scope()).name());
                if (c != null && c.decl() == d) {
                    all.add(c);
                    r.edges.put(c, r.callsIn(c));
                }
            }
        }
        return r.cycles(all);
    }

    /** The callees {@code c}'s body calls, in source order. */
    private List<Edge> callsIn(Callee c) {
        Set<String> local = new HashSet<>();
        for (ParamDef p : c.params()) local.add(p.name());
        for (Expr.Name in : c.inputNames()) local.add(in.name());
        for (Statement s : c.body()) if (s instanceof Statement.Apply a && a.name() != null) local.add(a.name());
        List<Edge> out = new ArrayList<>();
        for (ParamDef p : c.params()) if (p.defaultValue() != null) collect(p.defaultValue(), c, local, out);
        for (Statement s : c.body()) {
            if (s instanceof Statement.Input in) collect(in.shape(), c, local, out);
            else if (s instanceof Statement.Apply a) collect(a.value(), c, local, out);
            else collect(((Statement.Return) s).value(), c, local, out);
        }
        return out;
    }

    private static void collect(Expr e, Callee from, Set<String> local, List<Edge> out) {
        if (e instanceof Call call) {
            boolean value = !call.parenthesized() && local.contains(call.name());
            Callee to = from.scope().find(call.name());
            if (to != null && !value) out.add(new Edge(to, call.nameSpan()));
            for (Argument a : call.arguments()) collect(a.value(), from, local, out);
        } else if (e instanceof Expr.Name n) {
            Callee to = from.scope().find(n.name());
            if (to != null && !local.contains(n.name())) out.add(new Edge(to, n.span()));
        } else if (e instanceof Expr.Chain chain) {
            for (Expr s : chain.steps()) collect(s, from, local, out);
        } else if (e instanceof Expr.Binary b) {
            collect(b.left(), from, local, out);
            collect(b.right(), from, local, out);
        } else if (e instanceof Expr.Unary u) {
            collect(u.operand(), from, local, out);
        } else if (e instanceof Expr.Conditional c) {
            collect(c.condition(), from, local, out);
            collect(c.yes(), from, local, out);
            collect(c.no(), from, local, out);
        } else if (e instanceof Expr.ListLiteral list) {
            for (Expr x : list.elements()) collect(x, from, local, out);
        }
    }

    /** Depth-first search with an explicit stack; a call back into the stack closes a cycle. */
    private List<Diagnostic> cycles(List<Callee> all) {
        List<Diagnostic> errors = new ArrayList<>();
        Map<Callee, Boolean> done = new IdentityHashMap<>();
        for (Callee root : all) {
            if (done.containsKey(root)) continue;
            List<Callee> path = new ArrayList<>();
            List<Integer> next = new ArrayList<>();
            List<Edge> via = new ArrayList<>();
            path.add(root);
            next.add(0);
            Set<Callee> onPath = Collections.newSetFromMap(new IdentityHashMap<>());
            onPath.add(root);
            while (!path.isEmpty()) {
                int top = path.size() - 1;
                Callee c = path.get(top);
                List<Edge> out = edges.getOrDefault(c, List.of());
                int i = next.get(top);
                if (i == out.size()) {
                    done.put(c, true);
                    onPath.remove(c);
                    path.remove(top);
                    next.remove(top);
                    if (!via.isEmpty()) via.remove(via.size() - 1);
                    continue;
                }
                next.set(top, i + 1);
                Edge e = out.get(i);
                if (onPath.contains(e.to())) {
                    errors.add(cycle(path, via, e));
                } else if (!done.containsKey(e.to())) {
                    path.add(e.to());
                    next.add(0);
                    via.add(e);
                    onPath.add(e.to());
                }
            }
        }
        return errors;
    }

    /** The error for the cycle that {@code closing} makes with the calls on the path. */
    private static Diagnostic cycle(List<Callee> path, List<Edge> via, Edge closing) {
        int start = 0;
        while (path.get(start) != closing.to()) start++;
        List<Edge> calls = new ArrayList<>(via.subList(start, via.size()));
        calls.add(closing);
        List<String> names = new ArrayList<>();
        for (int k = start; k < path.size(); k++) names.add(path.get(k).name());
        names.add(closing.to().name());
        Callee first = path.get(start);
        Diagnostic d = Diagnostic.error(calls.get(0).at(), first.kind() + " '" + first.name() + "' is recursive: "
                + String.join(" -> ", names));
        for (int k = 1; k < calls.size(); k++) {
            d = d.withNote(calls.get(k).at(), "'" + path.get(start + k).name() + "' calls '" + calls.get(k).to().name()
                    + "' here");
        }
        return d;
    }
}
