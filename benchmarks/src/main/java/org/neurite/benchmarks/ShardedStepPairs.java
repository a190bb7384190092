package org.neurite.benchmarks;

import static org.neurite.benchmarks.CommandLineOptions.intOption;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.neurite.backend.Backend;
import org.neurite.data.Dataset;
import org.neurite.dsl.Script;
import org.neurite.dsl.ScriptLoader;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Trainer;
import org.neurite.engine.TrainingListener;
import org.neurite.graph.TypedGraph;
import org.neurite.plugin.BackendOptions;
import org.neurite.plugin.NeuriteRuntime;
import org.neurite.train.TrainSpec;

/**
 * Training steps run as two shards of the batch against the same steps unsharded, in one JVM on
 * one backend: two trainers over their own parameters, one made with {@code -Dneurite.shards=false}
 * in force, their epochs alternating (which goes first alternates too), so that a machine whose
 * speed drifts slows both alike.
 * <pre>java -XX:InlineSmallCode=10000 --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   org.neurite.benchmarks.ShardedStepPairs examples/resnet_small.nn --batch 64 --steps 50 --pairs 11 --threads 2</pre>
 * prints each side's median samples/s and the median of the pairs' ratios (sharded / unsharded).
 */
public final class ShardedStepPairs {
    private ShardedStepPairs() {}

    public static void main(String[] args) throws Exception {
        Path script = Path.of(args[0]);
        int batch = intOption(args, "--batch", 64);
        int steps = intOption(args, "--steps", 50);
        int pairs = intOption(args, "--pairs", 11);
        int threads = intOption(args, "--threads", 2);

        NeuriteRuntime runtime = NeuriteRuntime.discover();
        Script parsed = new ScriptLoader(runtime.layers()).load(script);
        TypedGraph graph = parsed.mainModel();
        TrainSpec spec = parsed.training(graph.graph().name()).orElse(TrainSpec.defaults(graph.graph().name())).with(batch, 1, 1);
        Dataset data = WorkloadThroughput.randomClassification(graph, batch * steps);
        try (Backend backend = runtime.createBackend("cpu", new BackendOptions(threads, null), List.of(), w -> {});
             ParameterStore plainStore = new ParameterStore(graph, backend, 1);
             ParameterStore shardedStore = new ParameterStore(graph, backend, 1)) {
            Trainer plain;
            System.setProperty("neurite.shards", "false");
            try {
                plain = new Trainer(graph, plainStore, spec);
            } finally {
                System.clearProperty("neurite.shards");
            }
            try (Trainer unsharded = plain; Trainer sharded = new Trainer(graph, shardedStore, spec)) {
                int epoch = 1;
                long start = System.nanoTime();
                do {
                    unsharded.trainEpoch(data, epoch, TrainingListener.NONE);
                    sharded.trainEpoch(data, epoch++, TrainingListener.NONE);
                } while (System.nanoTime() - start < WorkloadThroughput.WARM_UP_NANOS);
                double[] a = new double[pairs], b = new double[pairs], ratio = new double[pairs];
                for (int p = 0; p < pairs; p++) {
                    if (p % 2 == 0) {
                        a[p] = unsharded.trainEpoch(data, epoch, TrainingListener.NONE).samplesPerSecond();
                        b[p] = sharded.trainEpoch(data, epoch++, TrainingListener.NONE).samplesPerSecond();
                    } else {
                        b[p] = sharded.trainEpoch(data, epoch, TrainingListener.NONE).samplesPerSecond();
                        a[p] = unsharded.trainEpoch(data, epoch++, TrainingListener.NONE).samplesPerSecond();
                    }
                    ratio[p] = b[p] / a[p];
                }
                System.out.printf(Locale.ROOT, "{\"workload\": \"%s\", \"batch\": %d, \"threads\": %d, \"unsharded\": %.1f, \"sharded\": %.1f, "
                                + "\"ratio\": %.3f, \"unsharded_rounds\": %s, \"sharded_rounds\": %s}%n",
                        graph.graph().name(), batch, threads, WorkloadThroughput.median(a), WorkloadThroughput.median(b),
                        WorkloadThroughput.median(ratio), Arrays.toString(Arrays.stream(a).mapToLong(Math::round).toArray()),
                        Arrays.toString(Arrays.stream(b).mapToLong(Math::round).toArray()));
            }
        }
    }
}
