package org.neurite.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.neurite.data.CharText;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.engine.Predictor;
import org.neurite.graph.TypedGraph;
import org.neurite.train.TrainSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code nn sample MODEL.nn --weights W}: generates text from a character-level language model
 * trained on {@code data = text(file=…)}. The vocabulary is rebuilt from the same file. The model
 * reads a window of its input length; since it is causal (a left-to-right recurrence), the
 * context sits at the start of the window and the prediction is read at its last character.
 */
@Command(name = "sample", description = "Generate text from a trained character-level language model.")
final class SampleCommand implements Callable<Integer> {
    @Mixin ModelOptions options;
    @Spec CommandSpec spec;

    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "weights written by nn train")
    Path weights;

    @Option(names = "--length", paramLabel = "N", defaultValue = "200", description = "characters to generate (default 200)")
    int length;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8", description = "softmax temperature; lower is more conservative (default 0.8)")
    double temperature;

    @Option(names = "--prime", paramLabel = "TEXT", defaultValue = "", description = "text to start from (default: one random character)")
    String prime;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "sampling seed (default 1)")
    long seed;

    @Override public Integer call() throws Exception {
        if (length < 1) throw new BadInputException("--length must be at least 1, got " + length);
        if (!(temperature > 0)) throw new BadInputException("--temperature must be positive, got " + temperature);
        Session session = Session.open(options, true);
        TypedGraph graph = session.graph();
        TrainSpec train = session.trainSpec();
        if (!train.data().equals("text")) {
            throw new BadInputException("nn sample needs a model trained on text (data = text(file=...)); "
                    + graph.graph().name() + " is trained on " + train.data());
        }
        Path scriptFolder = Path.of(session.script().file()).toAbsolutePath().getParent();
        Path file = Path.of(train.dataArgs().getString("file"));
        if (!file.isAbsolute()) file = scriptFolder.resolve(file);
        List<String> vocabulary = CharText.load(file, train.dataArgs().getInt("length")).vocabulary();
        int window = graph.graph().inputs().get(0).shape().size();
        int classes = graph.outputShape().size() / window;
        if (classes < vocabulary.size()) {
            throw new BadInputException(graph.graph().name() + " scores " + classes + " characters per step but " + file
                    + " has " + vocabulary.size());
        }
        SplittableRandom rng = new SplittableRandom(seed);
        StringBuilder text = new StringBuilder();
        List<Integer> tokens = new java.util.ArrayList<>();
        if (prime.isEmpty()) {
            tokens.add(rng.nextInt(vocabulary.size()));
        } else {
            for (int cp : prime.codePoints().toArray()) {
                int index = vocabulary.indexOf(new String(Character.toChars(cp)));
                if (index < 0) throw new BadInputException("--prime contains '" + new String(Character.toChars(cp)) + "', which " + file + " never uses");
                tokens.add(index);
            }
        }
        for (int t : tokens) text.append(vocabulary.get(t));
        float[] input = new float[window];
        float[] probabilities = new float[classes];
        try (ParameterStore store = new ParameterStore(graph, session.backend(), train.seed());
             Predictor predictor = new Predictor(graph, store, 1)) {
            Checkpoints.loadWeights(weights, store);
            for (int i = 0; i < length; i++) {
                int context = Math.min(window, tokens.size());
                java.util.Arrays.fill(input, 0f);
                for (int k = 0; k < context; k++) input[k] = tokens.get(tokens.size() - context + k);
                float[] logits = predictor.predict(input, 1);
                int next = sample(logits, (context - 1) * classes, vocabulary.size(), probabilities, rng);
                tokens.add(next);
                text.append(vocabulary.get(next));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(text);
        out.flush();
        return ExitCodes.OK;
    }

    /** Draws from softmax(logits / temperature) over the first {@code n} classes of the row at {@code offset}. */
    private int sample(float[] logits, int offset, int n, float[] p, SplittableRandom rng) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < n; c++) max = Math.max(max, logits[offset + c]);
        double sum = 0;
        for (int c = 0; c < n; c++) {
            p[c] = (float) Math.exp((logits[offset + c] - max) / temperature);
            sum += p[c];
        }
        double u = rng.nextDouble() * sum;
        for (int c = 0; c < n; c++) {
            u -= p[c];
            if (u <= 0) return c;
        }
        return n - 1;
    }
}
