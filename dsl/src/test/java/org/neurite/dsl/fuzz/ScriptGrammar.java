package org.neurite.dsl.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes random scripts from the grammar of {@code NN.g4} the way people write them: {@code use}
 * lines, blocks with typed and defaulted parameters, conditionals and repeats, image, sequence
 * and vector models whose layers fit the shape flowing through them (residual sums, concats,
 * pooling while the image is large enough), and train sections. Each choice goes wrong with a
 * small probability: a value out of range or of the wrong type, a misspelt layer or argument, an
 * unknown name, a huge or zero repeat, a sum of mismatched shapes, a wrong train setting. About
 * half the scripts therefore load and half fail in one semantic check or another, so the
 * resolver's checks and its success path both meet random input. Everything is drawn from one
 * {@link Random}: a script is reproduced by its seed.
 */
final class ScriptGrammar {
    /** Chance that any one choice is a mistake. */
    private static final double MISTAKES = 0.03;

    private final Random r;
    private final StringBuilder out = new StringBuilder();
    private final List<String> imageBlocks = new ArrayList<>();
    private int names;

    private ScriptGrammar(Random r) {
        this.r = r;
    }

    static String script(long seed) {
        return new ScriptGrammar(new Random(seed)).script();
    }

    private String script() {
        if (r.nextInt(6) == 0) {
            line("use \"" + (wrong() ? pick("missing.nn", "/dev/zero", ".", "gen.nn") : "../examples/blocks/resnet.nn") + "\"");
            imageBlocks.add("basic");
        }
        if (r.nextBoolean()) comment();
        int blocks = r.nextInt(3);
        for (int i = 0; i < blocks; i++) imageBlock("b" + i);
        List<String> models = new ArrayList<>();
        int count = 1 + (r.nextInt(4) == 0 ? 1 : 0);
        for (int i = 0; i < count; i++) {
            String name = wrong() ? pick("M0", "relu", "b0") : "M" + i;
            switch (r.nextInt(3)) {
                case 0 -> imageModel(name);
                case 1 -> sequenceModel(name);
                default -> vectorModel(name);
            }
            models.add(name);
        }
        if (r.nextInt(3) != 0) train(wrong() ? "Nope" : models.get(r.nextInt(models.size())));
        return out.toString();
    }

    // ---- blocks and models ---------------------------------------------------------------------

    /** A residual-style block over images: parameters, a conditional shortcut, a return. */
    private void imageBlock(String name) {
        String channelType = wrong() ? pick("tensor", "float", "string") : pick("int", "int", "");
        line("block " + name + "(c" + (channelType.isEmpty() ? "" : ": " + channelType) + " = " + (wrong() ? "c" : pick("4", "8"))
                + ", stride: int = " + pick("1", "1", "2") + ")(x) {");
        line("    h = x -> conv(c, kernel=3, stride=stride, pad=1" + (r.nextBoolean() ? ", bias=false" : "") + ") -> "
                + pick("batchnorm -> relu", "relu", "tanh", "batchnorm"));
        line("    y = conv(c, kernel=3, pad=" + (wrong() ? "0" : "1") + ")" + (r.nextBoolean() ? " -> batchnorm" : ""));
        line("    s = if stride == 1" + (r.nextBoolean() ? " and c > 0" : "") + " then x -> conv(c, kernel=1) else x -> conv(c, kernel=1, "
                + "stride=stride)");
        if (!wrong()) line("    return " + pick("relu(y + s)", "y + s", "y -> relu", "concat(y, s)", "add(y, s) -> relu"));
        line("}");
        imageBlocks.add(name);
    }

    private void imageModel(String name) {
        int inputChannels = 1 + r.nextInt(3);
        int size = 4 + r.nextInt(29);
        line("model " + name + "(classes = " + classes() + (r.nextBoolean() ? ", width: int = " + pick("4", "8", "6") : "") + ") {");
        line("    input image: [" + inputChannels + ", " + dim(size) + ", " + dim(size) + "]");
        String width = out.toString().contains("width: int") && r.nextBoolean() ? "width" : Integer.toString(2 + r.nextInt(7));
        String previous = "image";
        int statements = 1 + r.nextInt(5);
        for (int i = 0; i < statements; i++) {
            String stmt = name();
            StringBuilder chain = new StringBuilder();
            if (r.nextInt(3) == 0) chain.append(previous).append(" -> ");
            String channels = r.nextInt(4) == 0 ? width + " * 2" : width;
            chain.append(conv(channels, size));
            int layers = r.nextInt(4);
            for (int k = 0; k < layers; k++) {
                String next = imageLayer(size);
                if (next.startsWith("maxpool") || next.startsWith("avgpool")) size = Math.max(1, size / 2);
                chain.append(" -> ").append(next);
            }
            if (!imageBlocks.isEmpty() && r.nextInt(3) == 0) {
                chain.append(" -> ").append(pick(imageBlocks)).append("(").append(channels).append(")");
                if (r.nextInt(3) == 0) chain.append(" * ").append(wrong() ? pick("0", "-1", "100000", "1.5") : pick("2", "3"));
            }
            line("    " + stmt + " = " + chain);
            if (r.nextInt(4) == 0) {
                // A branch beside the statement, merged back: same channels, so the sum fits.
                String branch = name();
                line("    " + branch + " = " + stmt + " -> conv(" + (wrong() ? "99" : channels) + ", kernel=1)");
                line("    " + name() + " = " + pick(stmt + " + " + branch, "add(" + stmt + ", " + branch + ")",
                        "concat(" + stmt + ", " + branch + ") -> conv(" + width + ", kernel=1)"));
            }
            previous = stmt;
        }
        line("    output logits = " + pick("flatten -> dense(32) -> relu -> dense(classes)", "globalavgpool -> dense(classes)",
                "flatten -> dropout(0.5) -> dense(classes)", "flatten -> dense(classes, init=\"xavier\")"));
        line("}");
    }

    private String conv(String width, int size) {
        int kernel = pick(1, 3, 3, 5);
        String k = wrong() ? pick("0", "-3", "[3]", "2147483647", "\"3\"", "3.5", "[3, 3, 3]") : Integer.toString(kernel);
        String channels = wrong() ? pick("0", "-1", "99999999999", "1e9") : width;
        String arg = pick("", ", stride=" + pick("1", "2", "[1, 2]"), ", dilation=" + pick("1", "2"), ", groups=1");
        String name = wrong() ? pick("cnov", "Conv", "conv2d") : "conv";
        String key = wrong() ? pick("kernal", "size", "kernel_size") : "kernel";
        return name + "(" + channels + ", " + key + "=" + k + ", pad=" + (kernel / 2) + arg + ")";
    }

    private String imageLayer(int size) {
        boolean canPool = size >= 2 || wrong();
        return switch (r.nextInt(canPool ? 9 : 6)) {
            case 0 -> "relu";
            case 1 -> "batchnorm" + pick("", "(momentum=0.1)", "(eps=1e-3, affine=false)");
            case 2 -> pick("tanh", "sigmoid");
            case 3 -> "dropout(" + (wrong() ? pick("1.5", "-0.1", "\"half\"") : pick("0.1", "0.5", "p=0.25")) + ")";
            case 4 -> "lrn(" + pick("size=3", "5, alpha=1e-4, beta=0.75", "3, k=2.0") + ")";
            case 5 -> "zeropad(" + pick("1", "[1, 1]", "[0, 1, 0, 1]") + ")";
            case 6 -> "maxpool(2" + pick("", ", stride=2", ", ceil=true") + ")";
            case 7 -> "avgpool(kernel=2)";
            default -> "maxpool(" + pick("2", "[2, 2]") + ")";
        };
    }

    private void sequenceModel(String name) {
        int steps = 2 + r.nextInt(20);
        boolean tokens = r.nextBoolean();
        line("model " + name + "(vocab = " + (wrong() ? "vocab" : pick("10", "30")) + ", hidden = " + pick("8", "16", "4") + ") {");
        line("    input seq: [" + dim(steps) + (tokens ? "" : ", " + dim(1 + r.nextInt(6))) + "]");
        if (tokens) line("    e = embedding(vocab, " + pick("4", "8", "hidden") + ")");
        String cell = wrong() ? pick("lstn", "LSTM") : pick("lstm", "gru", "rnn");
        String args = pick("hidden", "hidden, bidirectional=true", "hidden, layers=2", "hidden, layers=2, dropout=0.1",
                "hidden, forget_bias=1.0", "hidden=hidden, sequences=true");
        if (cell.equals("rnn") && args.contains("forget_bias")) args = "hidden, nonlinearity=\"relu\"";
        if (cell.equals("gru") && args.contains("forget_bias")) args = "hidden";
        line("    h = " + cell + "(" + (wrong() ? pick("0", "-4", "hidden, layers=0", "hidden, dropout=2.0") : args) + ")");
        if (r.nextBoolean()) line("    h2 = " + pick("lstm", "gru") + "(hidden, sequences=" + (tokens ? "true" : pick("true", "false")) + ")");
        line("    output next = dense(" + (tokens ? "vocab" : pick("1", "vocab")) + ")");
        line("}");
    }

    private void vectorModel(String name) {
        line("model " + name + "(n = " + pick("4", "16", "100") + ") {");
        line("    input x: [" + dim(1 + r.nextInt(64)) + "]");
        int layers = 1 + r.nextInt(4);
        StringBuilder chain = new StringBuilder();
        String units = "n";
        for (int i = 0; i < layers; i++) {
            if (i > 0) chain.append(" -> ");
            units = pick("n", "n * 2", "8", "if n > 10 then n else 10");
            chain.append("dense(").append(wrong() ? pick("0", "-n", "n / 0", "1e40", "true") : units)
                    .append(pick("", ", bias=false", ", init=\"xavier\"")).append(")");
            chain.append(pick("", " -> relu", " -> tanh", " -> dropout(0.2)", " -> batchnorm"));
        }
        // Repeating the chain only fits when its output is as wide as its input.
        line("    h = " + chain + (wrong() ? " * " + pick("2", "3") : ""));
        if (r.nextBoolean()) line("    r = h + (h -> dense(" + (wrong() ? "3" : units) + "))");
        line("    output y = dense(" + pick("1", "2", "n") + ")" + (r.nextBoolean() ? " -> softmax" : ""));
        line("}");
    }

    private void train(String model) {
        line("train " + model + " {");
        line("    data = " + (wrong() ? pick("nothing", "adding(length=-1)", "text(file=\"\")", "42") : pick("fashion_mnist", "mnist",
                "adding(length=20)", "text(file=\"/usr/share/dict/words\", length=16)")));
        line("    loss = " + (wrong() ? pick("hinge", "1") : pick("softmax_cross_entropy", "mse")));
        line("    optimizer = " + (wrong() ? pick("rmsprop()", "sgd(lr=-1)", "adam(beta1=2)") : pick("sgd(lr=0.01, momentum=0.9)", "adam(lr=0.002)",
                "sgd(lr=0.1)", "adam(lr=1e-3, weight_decay=1e-4)")));
        line("    batch = " + (wrong() ? pick("0", "-1", "1.5", "9999999999999") : pick("1", "32", "64")) + "; epochs = "
                + (wrong() ? pick("0", "\"two\"") : pick("1", "3")));
        if (r.nextBoolean()) line("    seed = " + (wrong() ? pick("99999999999999999999", "1.5") : Long.toString(r.nextLong())));
        if (r.nextBoolean()) line("    clip = " + (wrong() ? pick("-1", "0") : pick("1.0", "5")));
        if (wrong()) line("    " + pick("lr", "epoch", "data") + " = 1");
        line("}");
    }

    // ---- small pieces --------------------------------------------------------------------------

    private String classes() {
        return wrong() ? pick("0", "-10", "\"ten\"", "1e400", "99999999999999999999") : pick("10", "2", "5");
    }

    private String dim(int value) {
        return wrong() ? pick("0", "-1", "2147483648", "1.5", "\"28\"", "65536") : Integer.toString(value);
    }

    private String name() {
        return wrong() ? pick("image", "relu", "s0", "input") : "s" + names++;
    }

    private void comment() {
        line("# " + pick("a model", "ünïcödé comment", "-> relu # nested", "\"quoted\""));
    }

    private boolean wrong() {
        return r.nextDouble() < MISTAKES;
    }

    @SafeVarargs
    private <T> T pick(T... items) {
        return items[r.nextInt(items.length)];
    }

    private <T> T pick(List<T> items) {
        return items.get(r.nextInt(items.size()));
    }

    private void line(String text) {
        out.append(text).append('\n');
    }
}
