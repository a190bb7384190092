package org.neurite.testkit;

import com.google.inject.Module;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import org.neurite.backend.Backend;
import org.neurite.backend.CheckedBackend;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.layer.LayerArgs;
import org.neurite.layer.LayerType;
import org.neurite.layer.ParamDecl;
import org.neurite.layer.ParamSpec;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.BackendProvider;
import org.neurite.plugin.KernelOverride;
import org.neurite.plugin.NeuritePlugin;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.plugin.PluginModule;
import org.neurite.tensor.Shape;

/**
 * The one call a plugin author's test makes for each layer: given a {@link LayerType} (and any
 * {@link KernelOverride}s for it), sample arguments and per-sample input shapes, it runs every
 * check Neurite's own layers pass, in this order:
 * <ol>
 *   <li><b>schema</b> — {@link LayerSchemaCheck}: names, docs, defaults that bind, shapes,
 *       initialisers and FLOPs for the sample;</li>
 *   <li><b>gradients</b> — {@link GradientChecker} on the CPU backend for the generic kernel, and
 *       for each override on its own backend;</li>
 *   <li><b>parity</b> — {@link BackendParity} of every backend found on the class path against
 *       the CPU backend with one thread: the generic kernel bit for bit on {@code cpu} with two
 *       threads (the CPU backend promises the same bits for any thread count) and within a
 *       tolerance on other backends; each override within the tolerance on its backend;</li>
 *   <li><b>checkpoint</b> — the layer's parameters, initialised, saved with {@link SafeTensors}
 *       and read back bit for bit, and the forward output of the reloaded layer identical.</li>
 * </ol>
 * Overrides run through the same dispatch the runtime uses ({@link NeuriteRuntime}), so a kit run
 * also proves the override is picked for its backend. Parity runs at a batch large enough
 * (at least 65,536 input elements, at most batch 4,096) that multi-threaded backends split the
 * work, so thread-count differences show. Backends come from {@link NeuriteRuntime#discover()}: a
 * plugin's tests need {@code org.neurite:backend-cpu} on their class path.
 * <pre>{@code
 * PluginTestKit.Report r = PluginTestKit.forLayer(new Mish()).kernel(new CpuMish())
 *         .inputs(Shape.of(4, 8)).run();
 * }</pre>
 * {@link #run()} returns a {@link Report} listing each check, or throws an {@link AssertionError}.
 *
 * <p>A layer that reads indices (embedding's tokens) declares that input with
 * {@link #indexInput}: parity and the checkpoint feed it integers. The gradient checker draws its
 * own inputs in [-1, 1), which are not indices, so such a layer's gradient check is listed as not
 * checked; check its gradients by hand with a {@link LayerHarness}.
 */
public final class PluginTestKit {
    /** The smallest parity input, in elements: above the CPU backend's single-thread cut-offs. */
    static final int PARITY_ELEMENTS = 1 << 16;
    static final int MAX_PARITY_BATCH = 4096;

    private final LayerType type;
    private final List<KernelOverride> overrides = new ArrayList<>();
    /** Input index -> how many distinct indices it holds, for inputs of indices. */
    private final Map<Integer, Integer> indexInputs = new TreeMap<>();
    private Map<String, Object> args = Map.of();
    private List<Shape> inputs = List.of();
    private int batch = 2;
    private GradientChecker checker = new GradientChecker(1e-2, 1e-2, 1);
    private UnaryOperator<GradientCase> gradientCase = UnaryOperator.identity();
    private BackendParity.Tolerance tolerance = new BackendParity.Tolerance(1e-4, 1e-5);
    private long seed = 1;

    private PluginTestKit(LayerType type) {
        this.type = type;
    }

    /** Checks {@code type}'s generic kernel; add overrides with {@link #kernel}. */
    public static PluginTestKit forLayer(LayerType type) {
        return new PluginTestKit(type);
    }

    /**
     * Checks layer {@code name} as {@code plugin} registers it, with every kernel override the
     * plugin registers for it.
     */
    public static PluginTestKit forLayer(NeuritePlugin plugin, String name) {
        NeuriteRuntime runtime = NeuriteRuntime.of(List.of(plugin));
        LayerType type = runtime.referenceLayer(name).orElseThrow(() -> new AssertionError("plugin '" + plugin.name()
                + "' registers no layer '" + name + "'; it registers " + runtime.layers().names()));
        PluginTestKit kit = new PluginTestKit(type);
        kit.overrides.addAll(runtime.kernelOverrides(name));
        return kit;
    }

    /** Also checks {@code override}, a faster kernel of this layer for one backend. */
    public PluginTestKit kernel(KernelOverride override) {
        if (!override.layer().equals(type.name()))
            throw new IllegalArgumentException("kernel for '" + override.layer() + "' given to the kit for '" + type.name() + "'");
        overrides.add(override);
        return this;
    }

    /** Sample arguments by name: every required one, and any optional ones to check away from their defaults. */
    public PluginTestKit args(Map<String, Object> named) {
        this.args = Map.copyOf(named);
        return this;
    }

    /** Per-sample input shapes, without the batch dimension. */
    public PluginTestKit inputs(Shape... perSample) {
        this.inputs = List.of(perSample);
        return this;
    }

    /**
     * Input {@code input} holds indices in [0, {@code count}), stored as floats (embedding's
     * tokens): parity and the checkpoint fill it with random integers, and the gradient check is
     * left out (reported as not checked).
     */
    public PluginTestKit indexInput(int input, int count) {
        if (input < 0) throw new IllegalArgumentException("input index must be >= 0, got " + input);
        if (count < 1) throw new IllegalArgumentException("an index input needs count >= 1, got " + count);
        indexInputs.put(input, count);
        return this;
    }

    /** The batch of the gradient check and the checkpoint round trip (2 by default). */
    public PluginTestKit batch(int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        this.batch = batch;
        return this;
    }

    /** The gradient checker (default: step 1e-2, tolerance 1e-2, seed 1). */
    public PluginTestKit checker(GradientChecker checker) {
        this.checker = checker;
        return this;
    }

    /** Adjusts the gradient case, e.g. {@code c -> c.avoidingKinksAt(0)} for a layer with a kink. */
    public PluginTestKit gradientCase(UnaryOperator<GradientCase> adjust) {
        this.gradientCase = adjust;
        return this;
    }

    /** How far overrides and other backends may be from the reference (default 1e-4 relative + 1e-5). */
    public PluginTestKit parityTolerance(double relative, double absolute) {
        this.tolerance = new BackendParity.Tolerance(relative, absolute);
        return this;
    }

    /** Seeds the parity and checkpoint values (the checker has its own seed). */
    public PluginTestKit seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** What a kit run checked, one line per check, for the test to assert on. */
    public record Report(String layer, List<String> checks) {
        public Report {
            checks = List.copyOf(checks);
        }

        @Override public String toString() { return layer + ":\n  " + String.join("\n  ", checks); }
    }

    /**
     * Runs every check.
     *
     * @throws AssertionError at the first check that fails, saying what differed
     */
    public Report run() {
        if (inputs.isEmpty()) throw new IllegalStateException("give the kit sample input shapes with inputs(...)");
        for (int input : indexInputs.keySet()) {
            if (input >= inputs.size()) {
                throw new IllegalStateException("index input " + input + " does not exist; the kit has " + inputs.size()
                        + " input shapes");
            }
        }
        List<String> lines = new ArrayList<>();
        LayerArgs bound = schema(lines);
        LayerType dispatching = withOverrides();
        NeuriteRuntime found = NeuriteRuntime.discover();
        BackendProvider cpu = found.backends().get("cpu");
        if (cpu == null) {
            throw new AssertionError("the plugin test kit compares with the CPU backend, and none is on the class path: add "
                    + "org.neurite:backend-cpu with test scope; found " + found.backends().keySet());
        }
        List<Backend> open = new ArrayList<>();
        List<String> notChecked = new ArrayList<>();
        try {
            Backend reference = open(cpu, new BackendOptions(1, null), open);
            // Every available backend once; cpu again with another thread count.
            Map<String, Backend> candidates = new LinkedHashMap<>();
            for (BackendProvider p : found.backends().values()) {
                if (p.availability() != null) {
                    notChecked.add("backend " + p.name() + " not checked: " + p.availability());
                    continue;
                }
                boolean isCpu = p.name().equals("cpu");
                candidates.put(isCpu ? "cpu, 2 threads" : p.name(), open(p, isCpu ? new BackendOptions(2, null) : BackendOptions.defaults(), open));
            }
            gradients(bound, reference, candidates, dispatching, lines);
            parity(bound, reference, candidates, dispatching, lines);
            for (KernelOverride k : overrides) {
                if (candidates.values().stream().noneMatch(b -> b.name().equals(k.backend())))
                    notChecked.add("kernel " + k.getClass().getName() + " not checked: no '" + k.backend() + "' backend here");
            }
            checkpoint(bound, reference, lines);
            lines.addAll(notChecked);
        } finally {
            for (Backend b : open) b.close();
        }
        return new Report(type.name(), lines);
    }

    private static Backend open(BackendProvider provider, BackendOptions options, List<Backend> open) {
        Backend b = CheckedBackend.wrap(provider.create(options));
        open.add(b);
        return b;
    }

    /** {@link LayerSchemaCheck} with the required sample arguments, then binds all of them. */
    private LayerArgs schema(List<String> lines) {
        Map<String, Object> required = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : args.entrySet()) {
            ParamSpec spec = type.schema().find(e.getKey());
            if (spec == null) throw new AssertionError("layer '" + type.name() + "' has no parameter '" + e.getKey() + "'");
            if (spec.required()) required.put(e.getKey(), e.getValue());
        }
        LayerSchemaCheck.check(type, required, inputs.toArray(Shape[]::new));
        LayerArgs bound = type.schema().bind(List.of(), args);
        lines.add("schema: " + type.name() + "(" + bound + ") on " + inputs);
        return bound;
    }

    /** The layer as the runtime registers it with these overrides: compile() dispatches on the backend. */
    private LayerType withOverrides() {
        if (overrides.isEmpty()) return type;
        NeuritePlugin plugin = new NeuritePlugin() {
            @Override public String name() { return "plugin-test-kit"; }

            @Override public Module module() {
                return new PluginModule() {
                    @Override protected void configure() {
                        layer(type);
                        for (KernelOverride k : overrides) kernel(k);
                    }
                };
            }
        };
        return NeuriteRuntime.of(List.of(plugin)).layers().find(type.name()).orElseThrow();
    }

    private void gradients(LayerArgs bound, Backend reference, Map<String, Backend> candidates, LayerType dispatching,
                           List<String> lines) {
        if (!indexInputs.isEmpty()) {
            List<String> which = indexInputs.keySet().stream().map(String::valueOf).toList();
            lines.add("gradients not checked: " + (which.size() == 1 ? "input " + which.get(0) + " holds" : "inputs "
                    + String.join(", ", which) + " hold") + " indices, which the gradient checker cannot draw");
            return;
        }
        GradientReport generic = checker.check(gradientCase.apply(GradientCase.of(type, bound, batch, inputs.toArray(Shape[]::new))),
                reference);
        lines.add("gradients of the generic kernel on cpu: " + describe(generic));
        for (KernelOverride k : overrides) {
            for (Map.Entry<String, Backend> c : candidates.entrySet()) {
                if (!c.getValue().name().equals(k.backend())) continue;
                GradientCase gc = gradientCase.apply(GradientCase.of(dispatching, bound, batch, inputs.toArray(Shape[]::new)));
                lines.add("gradients of kernel " + k.getClass().getName() + " on " + c.getKey() + ": " + describe(checker.check(gc, c.getValue())));
            }
        }
    }

    private static String describe(GradientReport r) {
        return String.join(", ", r.tensors().stream().map(t -> t.name() + " " + t.shape() + " x" + t.checked()).toList());
    }

    private void parity(LayerArgs bound, Backend reference, Map<String, Backend> candidates, LayerType dispatching, List<String> lines) {
        int parityBatch = parityBatch();
        BackendParity parity = new BackendParity(seed);
        for (Map.Entry<Integer, Integer> e : indexInputs.entrySet()) parity = parity.withIndexInput(e.getKey(), e.getValue());
        for (Map.Entry<String, Backend> c : candidates.entrySet()) {
            Backend backend = c.getValue();
            BackendParity.Tolerance generic = backend.name().equals("cpu") ? BackendParity.Tolerance.EXACT : tolerance;
            BackendParity.Result r = parity.compare(type, reference, type, backend, bound, parityBatch, inputs, generic);
            lines.add("parity of the generic kernel on " + c.getKey() + " with cpu, 1 thread: " + generic + " on " + r.tensors());
            for (KernelOverride k : overrides) {
                if (!k.backend().equals(backend.name())) continue;
                BackendParity.Result o = parity.compare(type, reference, dispatching, backend, bound, parityBatch, inputs, tolerance);
                if (o.candidateKernel() == o.referenceKernel()) {
                    lines.add("kernel " + k.getClass().getName() + " declined " + type.name() + "(" + bound + ") on " + c.getKey()
                            + "; the generic kernel ran");
                } else {
                    lines.add("parity of kernel " + k.getClass().getName() + " on " + c.getKey()
                            + " with the generic kernel on cpu, 1 thread: " + tolerance + " on " + o.tensors());
                }
            }
        }
    }

    /** The gradient batch, grown until the largest input has {@link #PARITY_ELEMENTS} elements. */
    int parityBatch() {
        int perSample = inputs.stream().mapToInt(Shape::size).max().orElse(1);
        int needed = (PARITY_ELEMENTS + perSample - 1) / perSample;
        return Math.max(batch, Math.min(MAX_PARITY_BATCH, needed));
    }

    /**
     * Initialises the parameters, saves them as a checkpoint would ({@code <layer>.<param>}), reads
     * them back, and runs forward with the reloaded values: the bits and the output must match.
     */
    private void checkpoint(LayerArgs bound, Backend reference, List<String> lines) {
        List<NamedTensor> saved = new ArrayList<>();
        float[] before;
        float[][] x = new float[inputs.size()][];
        SplittableRandom rng = new SplittableRandom(seed);
        try (LayerHarness h = LayerHarness.compile(type, bound, batch, reference, inputs.toArray(Shape[]::new))) {
            for (int i = 0; i < x.length; i++) {
                x[i] = new float[h.inputShape(i).size()];
                Integer count = indexInputs.get(i);
                for (int j = 0; j < x[i].length; j++)
                    x[i][j] = count == null ? (float) (rng.nextDouble() * 4 - 2) : rng.nextInt(count);
                h.setInput(i, x[i]);
            }
            for (ParamDecl d : h.parameters()) {
                float[] values = new float[d.shape().size()];
                d.initializer().initialize(values, d.shape(), rng.split());
                h.setParam(d.name(), values);
                saved.add(new NamedTensor(type.name() + "." + d.name(), d.shape(), values));
            }
            before = h.training(false).forward();
        }
        if (saved.isEmpty()) {
            lines.add("checkpoint: " + type.name() + " has no parameters");
            return;
        }
        SafeTensors.Contents back = roundTrip(saved);
        if (back.tensors().size() != saved.size())
            throw new AssertionError("checkpoint: wrote " + saved.size() + " tensors, read " + back.tensors().size());
        for (int i = 0; i < saved.size(); i++) {
            NamedTensor w = saved.get(i), r = back.tensors().get(i);
            if (!w.name().equals(r.name()) || !w.shape().equals(r.shape()) || !bitsEqual(w.data(), r.data())) {
                throw new AssertionError("checkpoint: " + w.name() + " " + w.shape() + " came back as " + r.name() + " " + r.shape()
                        + (bitsEqual(w.data(), r.data()) ? "" : " with other values"));
            }
        }
        try (LayerHarness h = LayerHarness.compile(type, bound, batch, reference, inputs.toArray(Shape[]::new))) {
            for (int i = 0; i < x.length; i++) h.setInput(i, x[i]);
            for (ParamDecl d : h.parameters()) h.setParam(d.name(), back.get(type.name() + "." + d.name()).data());
            float[] after = h.training(false).forward();
            if (!bitsEqual(before, after))
                throw new AssertionError("checkpoint: the reloaded " + type.name() + " computes another output from the same input");
        }
        lines.add("checkpoint: " + String.join(", ", saved.stream().map(t -> t.name() + " " + t.shape()).toList())
                + " saved as safetensors and reloaded bit for bit; same output after reloading");
    }

    private static SafeTensors.Contents roundTrip(List<NamedTensor> tensors) {
        Path file = null;
        try {
            file = Files.createTempFile("plugin-test-kit", ".safetensors");
            SafeTensors.write(file, tensors, Map.of("format", "pt"));
            return SafeTensors.read(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                if (file != null) Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file left behind does not change the result
            }
        }
    }

    private static boolean bitsEqual(float[] a, float[] b) {
        if (a.length != b.length) return false;
        for (int i = 0; i < a.length; i++) if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(b[i])) return false;
        return true;
    }
}
