package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.config.DeploymentConfig;
import org.neurite.plugin.NeuriteRuntime;

/**
 * The streaming reading of JSON infer requests gives exactly what the tree reading gives (the
 * same floats bit for bit, id, sample count and output form) for every request it accepts, and
 * leaves every other request to the tree reading (answers null), which says what is wrong.
 */
class V2RequestScannerTest {
    @TempDir static Path dir;
    private static ModelFixture lenet;
    private static NeuriteRuntime runtime;
    private static ServedModel model;
    private static final V2Codec CODEC = new V2Codec();
    private static final V2RequestScanner SCANNER = new V2RequestScanner(CODEC.mapper());

    @BeforeAll static void load() throws Exception {
        lenet = new ModelFixture("lenet5", 11, dir);
        DeploymentConfig deployment = DeploymentConfig.load(lenet.deployment(dir, "lenet5", 1, 0, 4));
        runtime = NeuriteRuntime.discover();
        model = ServedModel.load(ServeConfig.from(deployment.serve()).models().get(0), deployment, runtime, dir, w -> { }, (n, t) -> { });
    }

    @AfterAll static void close() {
        model.close();
        runtime.close();
        lenet.close();
    }

    /** 784 numbers written {@code format}, comma-separated, from {@code seed}. */
    private static String numbers(int count, String format, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i > 0) b.append(',');
            float f = (float) (r.nextDouble(-4, 4) * Math.pow(10, r.nextInt(-40, 30)));
            b.append(String.format(Locale.ROOT, format, format.equals("%s") ? (Object) Float.toString(f) : (Object) (double) f));
        }
        return b.toString();
    }

    private static String tensor(String data) {
        return "{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"data\":" + data + "}";
    }

    static Stream<String> accepted() {
        String flat = "[" + numbers(784, "%s", 1) + "]";
        String rows = "[[" + numbers(392, "%.17g", 2) + "],[" + numbers(392, "%.9e", 3) + "]]";
        StringBuilder ints = new StringBuilder("[");
        // ints, and longs past 2^24 that a float cannot hold exactly
        for (int i = 0; i < 784; i++) ints.append(i == 0 ? "" : ",").append(i % 3 == 0 ? "-" : "").append((long) i * i * i * i * 1_000_003L);
        ints.append("]");
        String big = "[" + "123456789012345678901234567890,".repeat(783) + "16777217]";
        String two = "{\"name\":\"image\",\"datatype\":\"FP32\",\"data\":[" + numbers(1568, "%s", 4) + "],\"shape\":[2,1,28,28]}";
        return Stream.of(
                "{\"inputs\":[" + tensor(flat) + "]}",
                "{\"id\":\"req-7\",\"inputs\":[" + tensor(rows) + "],\"outputs\":[{\"name\":\"logits\"}]}",
                "{\"inputs\":[" + tensor(ints.toString()) + "],\"parameters\":{\"binary_data_output\":true}}",
                "{\"inputs\":[" + tensor(big) + "],\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":true}}]}",
                " {\n \"extra\": {\"a\": [1, {\"b\": null}]},\n \"inputs\" : [ " + two + " ] } ",
                "{\"inputs\":[{\"parameters\":{\"note\":1},\"unknown\":[[]],\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\","
                        + "\"data\":[[[" + numbers(784, "%.3f", 5) + "]],[]]}]}");
    }

    @ParameterizedTest @MethodSource("accepted")
    void acceptsWhatTheTreeAcceptsWithTheSameFloats(String request) {
        byte[] body = request.getBytes(StandardCharsets.UTF_8);
        V2Codec.Request tree = CODEC.readTree(body, -1, model);
        V2Codec.Request streamed = SCANNER.read(body, body.length, model);
        assertNotNull(streamed, "the scanner left a plain request to the tree");
        assertEquals(tree.id(), streamed.id());
        assertEquals(tree.count(), streamed.count());
        assertEquals(tree.binaryOutput(), streamed.binaryOutput());
        assertArrayEquals(tree.input(), streamed.input());   // assertArrayEquals on floats compares bits (NaN aside: none here)
    }

    @Test void decimalsRoundAsTheTreeRoundsThem() {
        // Float.toString of random bit patterns; 17-digit decimals that lie between two floats; and
        // decimals just past the midpoint of two floats whose nearest double is that midpoint, which
        // round up when read straight as a float but to even through a double, as the tree reads them.
        SplittableRandom r = new SplittableRandom(42);
        StringBuilder data = new StringBuilder("[");
        for (int i = 0; i < 784; i++) {
            float f;
            do f = Float.intBitsToFloat(r.nextInt()); while (!(Math.abs(f) < 1e37f) || f == 0);
            double between = (double) f + (double) Math.ulp(f) * r.nextDouble();
            double midpoint = (double) f + (double) Math.ulp(f) / 2;
            String pastMidpoint = new BigDecimal(midpoint).add(new BigDecimal(Math.ulp(midpoint) / 4).multiply(BigDecimal.valueOf(Math.signum(f))))
                    .toString();
            data.append(i == 0 ? "" : ",").append(switch (i % 3) {
                case 0 -> Float.toString(f);
                case 1 -> String.format(Locale.ROOT, "%.17g", between);
                default -> pastMidpoint;
            });
        }
        byte[] body = ("{\"inputs\":[" + tensor(data.append(']').toString()) + "]}").getBytes(StandardCharsets.UTF_8);
        V2Codec.Request tree = CODEC.readTree(body, -1, model);
        assertArrayEquals(tree.input(), SCANNER.read(body, body.length, model).input());
    }

    static Stream<String> leftToTheTree() {
        String sample = "[" + "0.5,".repeat(783) + "0.5]";
        return Stream.of(
                "{\"inputs\": [",
                "",
                "[1, 2]",
                "{\"inputs\":[" + tensor(sample) + "]} {}",
                "{\"inputs\":[" + tensor(sample) + "," + tensor(sample) + "]}",
                "{\"inputs\":[" + tensor(sample) + "],\"inputs\":[" + tensor(sample) + "]}",
                "{\"id\":7,\"inputs\":[" + tensor(sample) + "]}",
                "{\"inputs\":[" + tensor(sample.replaceFirst("0\\.5", "NaN")) + "]}",
                "{\"inputs\":[" + tensor(sample.replaceFirst("0\\.5", "1e39")) + "]}",
                "{\"inputs\":[" + tensor(sample.replaceFirst("0\\.5", "\"0.5\"")) + "]}",
                "{\"inputs\":[" + tensor(sample.replace("]", ",0.5]")) + "]}",
                "{\"inputs\":[" + tensor("[0.5]") + "]}",
                "{\"inputs\":[" + tensor(sample).replace("FP32", "INT64") + "]}",
                "{\"inputs\":[" + tensor(sample).replace("\"image\"", "\"pixels\"") + "]}",
                "{\"inputs\":[" + tensor(sample).replace("[1,1,28,28]", "[1,3,28,28]") + "]}",
                "{\"inputs\":[" + tensor(sample).replace("[1,1,28,28]", "[1.0,1,28,28]") + "]}",
                "{\"inputs\":[" + tensor(sample).replace("\"name\":\"image\",", "\"name\":\"image\",\"name\":\"image\",") + "]}",
                "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,1,28,28],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":3136}}]}");
    }

    @ParameterizedTest @MethodSource("leftToTheTree")
    void leavesEverythingElseToTheTree(String request) {
        byte[] body = request.getBytes(StandardCharsets.UTF_8);
        assertNull(SCANNER.read(body, body.length, model));
    }

    @Test void anUnknownRequestedOutputIsRefusedAsTheTreeRefusesIt() {
        byte[] body = ("{\"inputs\":[" + tensor("[" + "0.5,".repeat(783) + "0.5]") + "],\"outputs\":[{\"name\":\"probs\"}]}")
                .getBytes(StandardCharsets.UTF_8);
        InferenceError streamed = assertThrows(InferenceError.class, () -> SCANNER.read(body, body.length, model));
        InferenceError tree = assertThrows(InferenceError.class, () -> CODEC.readTree(body, -1, model));
        assertEquals(tree.getMessage(), streamed.getMessage());
    }
}
