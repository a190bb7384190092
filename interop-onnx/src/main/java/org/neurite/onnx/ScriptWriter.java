package org.neurite.onnx;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.neurite.tensor.Shape;

/**
 * Writes imported layers as a script a person would write. Two passes:
 * <ol>
 *   <li><b>Blocks.</b> Layers are grouped by module path ({@code layer1.0.conv1} lies under
 *       {@code layer1.0} and {@code layer1}). From the deepest level up, every group that reads one
 *       value and yields one is an instance of a sub-graph; instances with the same structure (the
 *       same layers, local names and wiring, arguments aside) become one {@code block}, the
 *       arguments that differ between instances its parameters, and each instance a call. A group
 *       of calls only (ResNet's {@code layer2}, two blocks in a row) stays a chain of calls.</li>
 *   <li><b>Statements.</b> Consecutive layers that each read the one before fold into one chain
 *       {@code a -> b -> c}, named so that Neurite's naming rule gives the layers with parameters
 *       their original names ({@code conv1 = conv(...)}, {@code downsample = conv(...) -> batchnorm}
 *       for {@code downsample.0}, {@code downsample.1}); repeated identical calls become
 *       {@code block(...) * n}.</li>
 * </ol>
 */
final class ScriptWriter {
    static final Set<String> RESERVED = Set.of("model", "block", "train", "use", "input", "output", "return", "if", "then", "else",
            "and", "or", "not", "true", "false");
    /** The positional (first) argument of each layer, as the README writes them: {@code conv(6, kernel=5)}. */
    private static final Map<String, String> POSITIONAL = Map.of("conv", "channels", "dense", "units", "maxpool", "kernel",
            "avgpool", "kernel", "lrn", "size", "rnn", "hidden", "lstm", "hidden", "gru", "hidden", "embedding", "num");

    /**
     * Each layer's optional arguments with their defaults, in schema order; the imported layers
     * leave defaults out, and blocks fill them in so that {@code conv(c, kernel=1)} and
     * {@code conv(c, kernel=3, pad=1)} can be one block with parameters kernel and pad. A null
     * default is a required argument; {@link #KERNEL} stands for "the kernel" (pooling strides).
     */
    private static final Map<String, Map<String, Object>> DEFAULTS = new HashMap<>();
    private static final Object KERNEL = new Object();

    static {
        DEFAULTS.put("conv", ordered("channels", null, "kernel", null, "stride", 1, "pad", 0, "dilation", 1, "groups", 1, "bias", true));
        DEFAULTS.put("maxpool", ordered("kernel", null, "stride", KERNEL, "pad", 0, "ceil", false));
        DEFAULTS.put("avgpool", ordered("kernel", null, "stride", KERNEL, "pad", 0, "ceil", false, "count_include_pad", true));
        DEFAULTS.put("batchnorm", ordered("eps", 1e-5));
        DEFAULTS.put("lrn", ordered("size", null, "alpha", 1e-4, "beta", 0.75, "k", 1.0));
        DEFAULTS.put("dense", ordered("units", null, "bias", true));
        DEFAULTS.put("concat", ordered("axis", 0));
    }

    private static Map<String, Object> ordered(Object... pairs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) m.put((String) pairs[i], pairs[i + 1]);
        return m;
    }

    /** {@code u}'s arguments with every default filled in, in schema order. */
    private static Map<String, Object> filled(Unit u) {
        Map<String, Object> defaults = u.isCall() ? null : DEFAULTS.get(u.layer);
        if (defaults == null) return u.args;
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> d : defaults.entrySet()) {
            Object v = u.args.containsKey(d.getKey()) ? u.args.get(d.getKey()) : d.getValue() == KERNEL ? u.args.get("kernel") : d.getValue();
            if (v != null) out.put(d.getKey(), v);
        }
        u.args.forEach(out::putIfAbsent);
        return out;
    }

    /** Whether {@code value} is what {@code key} of {@code u} would be without it. */
    private static boolean isDefault(Unit u, String key, Object value) {
        Map<String, Object> defaults = u.isCall() ? null : DEFAULTS.get(u.layer);
        if (defaults == null || !defaults.containsKey(key) || defaults.get(key) == null) return false;
        Object d = defaults.get(key) == KERNEL ? u.args.get("kernel") : defaults.get(key);
        if (value instanceof Double a && d instanceof Double b) return a.floatValue() == b.floatValue();
        return same(value, d);
    }

    /** A block found in the graph: its parameters, and the first instance's units as the body. */
    static final class Block {
        final String name;
        final List<String> params = new ArrayList<>();
        final List<Unit> body;
        final String prefix;
        final String input;
        /** (member index, argument) -> parameter name, for arguments that differ between instances. */
        final Map<String, String> varying = new HashMap<>();
        String signature;

        Block(String name, List<Unit> body, String prefix, String input) {
            this.name = name;
            this.body = body;
            this.prefix = prefix;
            this.input = input;
        }
    }

    /** A reference to a block parameter in a body's arguments. */
    private record ParamRef(String name) {}

    record Result(String script, List<Unit> units) {}

    private final List<Block> blocks = new ArrayList<>();

    private ScriptWriter() {}

    static Result write(String modelName, String inputName, Shape inputShape, String inputValue, List<Unit> layers, Set<String> outputs) {
        ScriptWriter w = new ScriptWriter();
        List<Unit> units = new ArrayList<>();
        for (Unit u : layers) units.add(normalised(u));
        units = w.findBlocks(units, outputs);
        StringBuilder sb = new StringBuilder();
        sb.append("# Imported from ONNX by nn import.\n");
        for (Block b : w.blocks) {
            sb.append('\n').append("block ").append(b.name).append('(').append(String.join(", ", b.params)).append(")(x) {\n");
            Map<String, String> values = new HashMap<>();
            values.put(b.input, "x");
            Set<String> taken = new HashSet<>(b.params);
            taken.add("x");
            List<String> lines = new ArrayList<>();
            String last = w.statements(b.body, b.prefix, values, taken, "x", lines, b, Set.of());
            for (String line : lines) sb.append("    ").append(line).append('\n');
            sb.append("    return ").append(last).append('\n').append("}\n");
        }
        sb.append('\n').append("model ").append(modelName).append(" {\n");
        String shape = Arrays.toString(inputShape.dims());
        sb.append("    input ").append(inputName).append(": ").append(shape).append('\n');
        Map<String, String> values = new HashMap<>();
        values.put(inputValue, inputName);
        Set<String> taken = new HashSet<>(Set.of(inputName));
        List<String> lines = new ArrayList<>();
        w.statements(units, "", values, taken, inputName, lines, null, outputs);
        for (String line : lines) sb.append("    ").append(line).append('\n');
        sb.append("}\n");
        return new Result(sb.toString(), units);
    }

    /** Pairs with equal halves become one int, as a person writes {@code kernel=3}. */
    private static Unit normalised(Unit u) {
        Map<String, Object> args = new LinkedHashMap<>();
        u.args.forEach((k, v) -> args.put(k, v instanceof int[] a && a.length == 2 && a[0] == a[1] ? (Object) a[0] : v));
        return new Unit(u.path, u.layer, args, u.inputs, u.output, u.params);
    }

    // ---- pass 1: blocks ----

    private List<Unit> findBlocks(List<Unit> units, Set<String> outputs) {
        int maxDepth = 0;
        for (Unit u : units) maxDepth = Math.max(maxDepth, segments(u.path).length);
        for (int depth = maxDepth - 1; depth >= 1; depth--) {
            List<String> prefixes = new ArrayList<>();
            for (Unit u : units) {
                String[] s = segments(u.path);
                String prefix = String.join(".", Arrays.copyOf(s, Math.min(depth, s.length)));
                if (s.length > depth && !prefixes.contains(prefix)) prefixes.add(prefix);
            }
            Map<String, List<String>> bySignature = new LinkedHashMap<>();
            for (String prefix : prefixes) {
                int[] range = instance(units, prefix, outputs);
                if (range == null) continue;
                List<Unit> members = units.subList(range[0], range[1]);
                String signature = signature(members, prefix);
                Block known = blocks.stream().filter(b -> b.signature.equals(signature) && reusable(b, members)).findFirst().orElse(null);
                if (known == null) {
                    // The same structure with other constants (GoogLeNet's stride-2 stem conv): the
                    // block gains those parameters rather than a near copy being made.
                    known = blocks.stream().filter(b -> b.signature.equals(signature)).findFirst().orElse(null);
                    if (known != null) generalise(known, members, units);
                }
                if (known != null) {
                    units = replace(units, known, List.of(prefix), List.of(new ArrayList<>(members)), callArgs(known, members));
                    continue;
                }
                bySignature.computeIfAbsent(signature, k -> new ArrayList<>()).add(prefix);
            }
            for (List<String> group : bySignature.values()) {
                if (group.size() >= 2 || namedMembers(units, group.get(0))) units = makeBlock(units, group);
            }
        }
        return units;
    }

    /**
     * Whether a sub-graph found once should still be a block: when its parts have names
     * ({@code conv1}, {@code bn1}) that written out in the model would lose their dots, but not
     * for numbered sequences ({@code features.0}, {@code features.3}).
     */
    private static boolean namedMembers(List<Unit> units, String prefix) {
        for (Unit u : units) {
            if (!under(u, prefix) || u.path.equals(prefix)) continue;
            if (Character.isDigit(local(u, prefix).charAt(0))) return false;
        }
        return true;
    }

    /** Whether {@code members} is an instance of {@code block}: equal wherever the block has no parameter. */
    private static boolean reusable(Block block, List<Unit> members) {
        Map<String, Object> values = new HashMap<>();
        for (int m = 0; m < members.size(); m++) {
            Map<String, Object> mine = filled(members.get(m));
            Map<String, Object> body = filled(block.body.get(m));
            if (!mine.keySet().equals(body.keySet())) return false;
            if (members.get(m).isCall() && members.get(m).block != block.body.get(m).block) return false;
            for (String key : mine.keySet()) {
                String param = block.varying.get(m + "/" + key);
                if (param == null) {
                    if (!same(mine.get(key), body.get(key))) return false;
                } else if (values.containsKey(param) && !same(values.get(param), mine.get(key))) {
                    return false;
                } else {
                    values.put(param, mine.get(key));
                }
            }
        }
        return true;
    }

    /**
     * Turns every constant of {@code block} in which {@code members} differ into a parameter;
     * the calls made so far get the body's value for it.
     */
    private void generalise(Block block, List<Unit> members, List<Unit> units) {
        for (int m = 0; m < members.size(); m++) {
            Map<String, Object> mine = filled(members.get(m));
            Map<String, Object> body = filled(block.body.get(m));
            for (String key : mine.keySet()) {
                String cell = m + "/" + key;
                if (block.varying.containsKey(cell) || same(mine.get(key), body.get(key))) continue;
                String name = key;
                if (block.params.contains(name)) name = OnnxImporter.sanitize(local(block.body.get(m), block.prefix) + "_" + key);
                while (block.params.contains(name) || name.equals("x") || RESERVED.contains(name)) name = name + "_";
                block.params.add(name);
                block.varying.put(cell, name);
                for (Unit call : calls(block, units)) call.args.put(name, body.get(key));
            }
        }
    }

    /** Every call of {@code block}: in the model's units, inside other calls and in the bodies of blocks. */
    private List<Unit> calls(Block block, List<Unit> units) {
        List<Unit> out = new ArrayList<>();
        java.util.ArrayDeque<Unit> todo = new java.util.ArrayDeque<>(units);
        for (Block b : blocks) todo.addAll(b.body);
        java.util.Set<Unit> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        while (!todo.isEmpty()) {
            Unit u = todo.pop();
            if (!u.isCall() || !seen.add(u)) continue;
            if (u.block == block) out.add(u);
            todo.addAll(u.body);
        }
        return out;
    }

    private static List<Map<String, Object>> callArgs(Block block, List<Unit> members) {
        Map<String, Object> args = new LinkedHashMap<>();
        for (String param : block.params) {
            for (Map.Entry<String, String> cell : block.varying.entrySet()) {
                if (!cell.getValue().equals(param)) continue;
                int m = Integer.parseInt(cell.getKey().substring(0, cell.getKey().indexOf('/')));
                args.put(param, filled(members.get(m)).get(cell.getKey().substring(cell.getKey().indexOf('/') + 1)));
                break;
            }
        }
        return List.of(args);
    }

    private static List<Unit> replace(List<Unit> units, Block block, List<String> prefixes, List<List<Unit>> instances,
                                      List<Map<String, Object>> args) {
        List<Unit> out = new ArrayList<>(units);
        for (int i = 0; i < instances.size(); i++) {
            List<Unit> inst = instances.get(i);
            Unit call = new Unit(prefixes.get(i), block.name, args.get(i), List.of(externalInput(inst)), inst.get(inst.size() - 1).output,
                    List.of(), block, inst);
            int at = out.indexOf(inst.get(0));
            out.subList(at, at + inst.size()).clear();
            out.add(at, call);
        }
        return out;
    }

    private static String[] segments(String path) {
        return path.isEmpty() ? new String[0] : path.split("\\.");
    }

    private static boolean under(Unit u, String prefix) {
        return u.path.equals(prefix) || u.path.startsWith(prefix + ".");
    }

    /**
     * The index range [from, to) of the units under {@code prefix} when they are contiguous, read
     * one outside value, yield one value (their last), hold at least three units and at least one
     * layer; else null.
     */
    private static int[] instance(List<Unit> units, String prefix, Set<String> outputs) {
        int from = -1;
        int to = -1;
        for (int i = 0; i < units.size(); i++) {
            if (under(units.get(i), prefix)) {
                if (from < 0) from = i;
                else if (to != i) return null;
                to = i + 1;
            }
        }
        // Fewer than three steps read better written out (a conv and its batch norm) than as a block.
        if (from < 0 || to - from < 3) return null;
        List<Unit> members = units.subList(from, to);
        if (members.stream().allMatch(Unit::isCall)) return null;
        // One layer with weights and what follows it is a statement (c1 = conv -> relu -> maxpool), not a block.
        if (members.stream().filter(Unit::ownsParams).count() < 2) return null;
        Set<String> produced = new HashSet<>();
        Set<String> external = new HashSet<>();
        for (Unit u : members) {
            for (String in : u.inputs) if (!produced.contains(in)) external.add(in);
            produced.add(u.output);
        }
        if (external.size() != 1) return null;
        for (Unit u : members.subList(0, members.size() - 1)) {
            if (outputs.contains(u.output)) return null;
            for (Unit reader : units) if (!members.contains(reader) && reader.inputs.contains(u.output)) return null;
        }
        return new int[] {from, to};
    }

    /** The structure of an instance: local names, layers, argument names and wiring, not argument values. */
    private static String signature(List<Unit> members, String prefix) {
        Map<String, Integer> index = new HashMap<>();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < members.size(); i++) {
            Unit u = members.get(i);
            Map<String, Object> defaults = u.isCall() ? Map.of() : DEFAULTS.getOrDefault(u.layer, Map.of());
            List<String> required = u.args.keySet().stream().filter(k -> !defaults.containsKey(k) || defaults.get(k) == null).toList();
            sb.append(local(u, prefix)).append(':').append(u.layer).append(required).append('<');
            for (String in : u.inputs) sb.append(index.containsKey(in) ? index.get(in).toString() : "x").append(',');
            for (Map.Entry<String, Object> a : filled(u).entrySet()) {
                // Types may not differ either: an int and a pair cannot share a parameter.
                sb.append(a.getValue().getClass().getSimpleName()).append(',');
            }
            sb.append(">;");
            index.put(u.output, i);
        }
        return sb.toString();
    }

    private static String local(Unit u, String prefix) {
        if (prefix.isEmpty()) return u.path;
        return u.path.equals(prefix) ? "" : u.path.substring(prefix.length() + 1);
    }

    private List<Unit> makeBlock(List<Unit> units, List<String> prefixes) {
        List<List<Unit>> instances = new ArrayList<>();
        for (String prefix : prefixes) {
            int[] r = instance(units, prefix, Set.of());
            if (r == null) return units;
            instances.add(new ArrayList<>(units.subList(r[0], r[1])));
        }
        List<Unit> first = instances.get(0);
        Block block = new Block(blockName(first, prefixes), first, prefixes.get(0), externalInput(first));
        block.signature = signature(first, prefixes.get(0));
        // Arguments that differ between instances; identical value lists share one parameter.
        Map<List<Object>, List<String>> byColumn = new LinkedHashMap<>();
        for (int m = 0; m < first.size(); m++) {
            for (String key : filled(first.get(m)).keySet()) {
                List<Object> column = new ArrayList<>();
                for (List<Unit> inst : instances) column.add(filled(inst.get(m)).get(key));
                if (column.stream().anyMatch(v -> !same(v, column.get(0)))) {
                    byColumn.computeIfAbsent(boxed(column), k -> new ArrayList<>()).add(m + "/" + key);
                }
            }
        }
        Map<String, Integer> keyCount = new HashMap<>();
        for (List<String> cells : byColumn.values()) keyCount.merge(cells.get(0).substring(cells.get(0).indexOf('/') + 1), 1, Integer::sum);
        List<Map<String, Object>> args = new ArrayList<>();
        for (int i = 0; i < instances.size(); i++) args.add(new LinkedHashMap<>());
        for (Map.Entry<List<Object>, List<String>> e : byColumn.entrySet()) {
            String cell = e.getValue().get(0);
            int m = Integer.parseInt(cell.substring(0, cell.indexOf('/')));
            String key = cell.substring(cell.indexOf('/') + 1);
            String name = keyCount.get(key) == 1 ? key : OnnxImporter.sanitize(local(first.get(m), block.prefix) + "_" + key);
            while (block.params.contains(name) || name.equals("x") || RESERVED.contains(name)) name = name + "_";
            block.params.add(name);
            for (String c : e.getValue()) block.varying.put(c, name);
            for (int i = 0; i < instances.size(); i++) args.get(i).put(name, unboxed(e.getKey().get(i)));
        }
        blocks.add(block);
        return replace(units, block, prefixes, instances, args);
    }

    private static String externalInput(List<Unit> members) {
        Set<String> produced = new HashSet<>();
        for (Unit u : members) {
            for (String in : u.inputs) if (!produced.contains(in)) return in;
            produced.add(u.output);
        }
        throw new IllegalStateException("an instance without input");
    }

    private String blockName(List<Unit> members, List<String> prefixes) {
        List<String> layers = members.stream().map(u -> u.layer).toList();
        String base;
        if (layers.contains("add")) {
            // A shortcut with layers of its own (ResNet's downsample) makes a different block.
            String x = externalInput(members);
            boolean projected = members.stream().skip(1).anyMatch(u -> !u.layer.equals("add") && u.inputs.contains(x));
            base = projected ? "residual_projected" : "residual";
        } else if (layers.contains("concat")) {
            String stem = stem(prefixes);
            base = stem != null ? stem : "branches";
        } else if (members.size() <= 4 && members.stream().noneMatch(Unit::isCall)) {
            base = String.join("_", layers);
        } else {
            String stem = stem(prefixes);
            base = stem != null ? stem : "unit";
        }
        Set<String> names = new HashSet<>();
        for (Block b : blocks) names.add(b.name);
        String name = base;
        for (int i = 2; names.contains(name) || RESERVED.contains(name); i++) name = base + i;
        return name;
    }

    /** The letters the instances' last path segments start with, when they share three or more ({@code inception} of inception3a, inception4b). */
    private static String stem(List<String> prefixes) {
        String common = null;
        for (String p : prefixes) {
            String[] s = segments(p);
            String last = s[s.length - 1].replaceAll("[^A-Za-z_].*$", "");
            common = common == null ? last : commonPrefix(common, last);
        }
        return common != null && common.length() >= 3 ? common : null;
    }

    private static String commonPrefix(String a, String b) {
        int n = 0;
        while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) n++;
        return a.substring(0, n);
    }

    private static boolean same(Object a, Object b) {
        if (a instanceof int[] x && b instanceof int[] y) return Arrays.equals(x, y);
        return Objects.equals(a, b);
    }

    private static List<Object> boxed(List<Object> column) {
        List<Object> out = new ArrayList<>();
        for (Object v : column) out.add(v instanceof int[] a ? Arrays.stream(a).boxed().toList() : v);
        return out;
    }

    private static Object unboxed(Object v) {
        if (v instanceof List<?> list) return list.stream().mapToInt(o -> (Integer) o).toArray();
        return v;
    }

    // ---- pass 2: statements ----

    /**
     * Appends the statements for {@code units} (local names relative to {@code prefix}) to
     * {@code lines}; returns the value name of the last one.
     */
    private String statements(List<Unit> units, String prefix, Map<String, String> values, Set<String> taken, String start,
                              List<String> lines, Block block, Set<String> outputs) {
        Map<String, Integer> reads = new HashMap<>();
        for (Unit u : units) for (String in : u.inputs) reads.merge(in, 1, Integer::sum);
        List<List<Unit>> statements = new ArrayList<>();
        List<Unit> current = new ArrayList<>();
        for (int i = 0; i < units.size(); i++) {
            Unit u = units.get(i);
            Unit prev = current.isEmpty() ? null : current.get(current.size() - 1);
            boolean chained = prev != null && u.inputs.size() == 1 && u.inputs.get(0).equals(prev.output)
                    && reads.getOrDefault(prev.output, 0) == 1 && !outputs.contains(prev.output);
            // Calls chain with calls only: `layer2 = residual_projected(...) -> residual(...)`.
            boolean fits = chained && (!u.ownsParams() || fitsName(current, u, prefix))
                    && current.stream().allMatch(x -> x.isCall() == u.isCall());
            if (!fits && !current.isEmpty()) {
                statements.add(current);
                current = new ArrayList<>();
            }
            current.add(u);
        }
        if (!current.isEmpty()) statements.add(current);

        String previous = start;
        for (int s = 0; s < statements.size(); s++) {
            List<Unit> st = statements.get(s);
            String name = unique(statementName(st, prefix), taken);
            taken.add(name);
            StringBuilder expr = new StringBuilder();
            Unit head = st.get(0);
            int i = 0;
            if (head.inputs.size() == 1) {
                String in = values.get(head.inputs.get(0));
                if (in == null) throw new IllegalStateException("value " + head.inputs.get(0) + " read before it is written");
                if (!in.equals(previous)) expr.append(in).append(" -> ");
            } else {
                List<String> ins = head.inputs.stream().map(values::get).toList();
                if (head.layer.equals("add")) expr.append(st.size() > 1 ? "(" : "").append(String.join(" + ", ins)).append(st.size() > 1 ? ")" : "");
                else expr.append(head.layer).append('(').append(String.join(", ", ins)).append(argText(head, block, prefix, false)).append(')');
                i = 1;
            }
            for (boolean first = i == 0; i < st.size(); first = false) {
                int run = repeats(st, i);
                expr.append(first ? "" : " -> ").append(callText(st, i, block, prefix));
                if (run > 1) expr.append(" * ").append(run);
                i += run;
            }
            String text = expr.toString();
            boolean isOutput = outputs.contains(st.get(st.size() - 1).output);
            lines.add((isOutput ? "output " : "") + name + " = " + text);
            values.put(st.get(st.size() - 1).output, name);
            previous = name;
        }
        return previous;
    }

    /** How many identical calls of one block start at {@code i}. */
    private static int repeats(List<Unit> st, int i) {
        Unit u = st.get(i);
        if (!u.isCall()) return 1;
        int n = 1;
        while (i + n < st.size() && st.get(i + n).isCall() && st.get(i + n).block == u.block && sameArgs(st.get(i + n), u)) n++;
        return n;
    }

    private static boolean sameArgs(Unit a, Unit b) {
        if (!a.args.keySet().equals(b.args.keySet())) return false;
        for (String k : a.args.keySet()) if (!same(a.args.get(k), b.args.get(k))) return false;
        return true;
    }

    /** Whether {@code u} (with parameters) can join {@code current} and keep its name: names s.0, s.1, ... in order. */
    private static boolean fitsName(List<Unit> current, Unit u, String prefix) {
        List<Unit> owners = current.stream().filter(Unit::ownsParams).toList();
        if (owners.isEmpty()) return true;
        String first = local(owners.get(0), prefix);
        if (!first.endsWith(".0")) return false;
        String base = first.substring(0, first.length() - 2);
        return local(u, prefix).equals(base + "." + owners.size());
    }

    private static String statementName(List<Unit> st, String prefix) {
        List<Unit> owners = st.stream().filter(Unit::ownsParams).toList();
        if (owners.size() > 1) {
            String first = local(owners.get(0), prefix);
            return OnnxImporter.sanitize(first.substring(0, first.length() - 2));
        }
        Unit named = owners.isEmpty() ? st.get(st.size() - 1) : owners.get(0);
        String local = local(named, prefix);
        return OnnxImporter.sanitize(local.isEmpty() ? named.layer : local);
    }

    private static String unique(String name, Set<String> taken) {
        String candidate = name;
        for (int i = 2; taken.contains(candidate) || RESERVED.contains(candidate); i++) candidate = name + "_" + i;
        return candidate;
    }

    private String callText(List<Unit> st, int i, Block block, String prefix) {
        Unit u = st.get(i);
        String args = argText(u, block, prefix, true);
        if (args.isEmpty()) return u.layer;
        return u.layer + "(" + args + ")";
    }

    /** The arguments of {@code u}; in a block body, the varying ones as parameter names. */
    private static String argText(Unit u, Block block, String prefix, boolean alone) {
        List<String> parts = new ArrayList<>();
        int member = block == null ? -1 : block.body.indexOf(u);
        String positional = u.isCall() ? null : POSITIONAL.get(u.layer);
        for (Map.Entry<String, Object> a : filled(u).entrySet()) {
            String param = member >= 0 ? block.varying.get(member + "/" + a.getKey()) : null;
            if (param == null && isDefault(u, a.getKey(), a.getValue())) continue;
            String value = param != null ? param : literal(a.getValue());
            // Block calls pass their arguments in parameter order, as the examples do: basic(64), inception(64, 96, ...).
            parts.add(u.isCall() || a.getKey().equals(positional) && parts.isEmpty() ? value : a.getKey() + "=" + value);
        }
        String text = String.join(", ", parts);
        return alone || text.isEmpty() ? text : ", " + text;
    }

    static String literal(Object v) {
        if (v instanceof int[] a) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < a.length; i++) sb.append(i > 0 ? ", " : "").append(a[i]);
            return sb.append(']').toString();
        }
        if (v instanceof Double d) {
            float f = d.floatValue();
            String s = new java.math.BigDecimal(Float.toString(f)).stripTrailingZeros().toPlainString();
            return s.contains(".") ? s : s + ".0";
        }
        if (v instanceof String s) return '"' + s + '"';
        return String.valueOf(v);
    }
}
