package org.neurite.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.neurite.config.DeploymentConfig;
import org.neurite.data.IdxReader;
import org.neurite.data.Normalization;
import org.neurite.diag.ModelException;
import org.neurite.engine.Checkpoints;
import org.neurite.engine.ParameterStore;
import org.neurite.io.FileFormatException;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/**
 * The hostile-file table: IDX datasets, safetensors weights and deployment YAML made to be
 * wrong in the ways files go wrong (cut short, too long, not the format at all, headers that
 * promise gigabytes, shapes that do not fit the model, NaN and infinity in weights, tensors that
 * share bytes, YAML alias bombs). Each row names the file and the one exception and message the
 * reader must give; every row also checks that the heap rose by less than 64 MiB while it ran,
 * so no header can make a reader allocate what the file does not hold.
 */
class HostileFilesTest {
    private static final long HEAP_BOUND = 64L << 20;
    private static final String F = "$FILE";

    @TempDir Path dir;

    /** Writes the hostile file into a folder and returns it. */
    @FunctionalInterface
    interface Maker {
        Path make(Path dir) throws IOException;
    }

    /** What is done with the file: read it the way Neurite would. */
    @FunctionalInterface
    interface Reader {
        void read(Path file) throws Exception;
    }

    static Stream<Arguments> table() {
        List<Arguments> rows = new ArrayList<>();
        // ---- IDX (MNIST-style datasets) --------------------------------------------------------
        rows.add(row("IDX cut inside its magic number", d -> write(d, "images.idx", new byte[] {0, 0}), HostileFilesTest::images,
                FileFormatException.class, F + ": truncated: an IDX file starts with a 4-byte magic number, found 2 bytes"));
        rows.add(row("a PNG passed as IDX", d -> write(d, "images.idx", new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}),
                HostileFilesTest::images, FileFormatException.class,
                F + ": not an IDX file (magic number 0x89504E47; IDX files start with two zero bytes)"));
        rows.add(row("IDX labels read as images", d -> write(d, "labels.idx", idx(new int[] {3}, new byte[3])),
                HostileFilesTest::images, FileFormatException.class,
                F + ": expected an IDX file of rank 3 (images: count x rows x cols), found rank 1"));
        rows.add(row("IDX header promising 784 million pixels in 40 bytes",
                d -> write(d, "images.idx", idx(new int[] {1_000_000, 28, 28}, new byte[24])), HostileFilesTest::images,
                FileFormatException.class, F + ": truncated: the header promises 1000000 x 28 x 28 = 784000000 data bytes, found 24"));
        rows.add(row("gzip IDX promising a billion pixels, holding 100",
                d -> write(d, "images.idx.gz", gzip(idx(new int[] {1000, 1000, 1000}, new byte[100]))), HostileFilesTest::images,
                FileFormatException.class,
                F + ": truncated: the header promises 1000 x 1000 x 1000 = 1000000000 data bytes, found 100 after decompression"));
        rows.add(row("IDX dimensions whose product overflows", d -> write(d, "images.idx",
                idx(new int[] {-1, -1, -1}, new byte[0])), HostileFilesTest::images, FileFormatException.class,
                F + ": dimensions 4294967295 x 4294967295 x 4294967295 hold 79228162458924105000000000000 values; at most 1073741824 are supported"));
        rows.add(row("IDX with data after what the header promises", d -> write(d, "labels.idx", idx(new int[] {4}, new byte[10])),
                HostileFilesTest::labels, FileFormatException.class,
                F + ": 6 bytes after the 4 data bytes the header promises (4)"));
        // ---- safetensors -----------------------------------------------------------------------
        rows.add(row("safetensors of 3 bytes", d -> write(d, "w.safetensors", new byte[] {1, 2, 3}), HostileFilesTest::safetensors,
                FileFormatException.class, F + ": not a safetensors file (only 3 bytes)"));
        rows.add(row("safetensors header length of 2^62", d -> write(d, "w.safetensors", concat(le(1L << 62), "{}".getBytes())),
                HostileFilesTest::safetensors, FileFormatException.class,
                F + ": not a safetensors file (header length 4611686018427387904 does not fit a file of 10 bytes)"));
        rows.add(row("safetensors header of 100 MiB (sparse file)", d -> sparse(d.resolve("w.safetensors"), le(100L << 20), 8 + (100L << 20)),
                HostileFilesTest::safetensors, FileFormatException.class,
                F + ": not a safetensors file (header length 104857600 does not fit a file of 104857608 bytes)"));
        rows.add(row("a zip file passed as safetensors", d -> write(d, "w.safetensors", concat(new byte[] {'P', 'K', 3, 4, 20, 0, 0, 0}, new byte[40])),
                HostileFilesTest::safetensors, FileFormatException.class,
                F + ": not a safetensors file (header length 85966670672 does not fit a file of 48 bytes)"));
        rows.add(row("safetensors header that is not JSON", d -> write(d, "w.safetensors", concat(le(4), "{x:]".getBytes())),
                HostileFilesTest::safetensors, FileFormatException.class, null));
        rows.add(row("safetensors cut short in its data", d -> write(d, "w.safetensors",
                        safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[0,4000]}}", new byte[40])),
                HostileFilesTest::safetensors, FileFormatException.class,
                F + ": tensor 'w': data_offsets [0,4000] do not match shape [1000] and dtype F32 in 40 data bytes"));
        rows.add(row("safetensors tensor of 2^32 elements", d -> write(d, "w.safetensors",
                        safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", new byte[4])),
                HostileFilesTest::safetensors, FileFormatException.class, F + ": tensor 'w': too many elements [65536,65536]"));
        rows.add(row("safetensors shape that is not an integer", d -> write(d, "w.safetensors",
                        safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", new byte[8])),
                HostileFilesTest::safetensors, FileFormatException.class, F + ": tensor 'w': invalid shape [2.5]"));
        rows.add(row("2,000 safetensors entries naming the same 4 MiB", HostileFilesTest::aliasedTensors, HostileFilesTest::safetensors,
                FileFormatException.class, F + ": tensors 't0' and 't1' overlap (data bytes 0..4194304 and 0..4194304)"));
        rows.add(row("safetensors dtype nobody writes", d -> write(d, "w.safetensors",
                        safetensors("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8])),
                HostileFilesTest::safetensors, FileFormatException.class, F + ": tensor 'w': unsupported dtype C64"));
        // ---- weights that do not fit the model -------------------------------------------------
        rows.add(row("weights of the wrong shape", d -> weights(d, Map.of("fc.weight", Shape.of(4, 2), "fc.bias", Shape.of(2)), null, 0, 0f),
                HostileFilesTest::loadWeights, IllegalArgumentException.class,
                F + " does not fit the model: 'fc.weight' has shape [4, 2], the model needs [2, 4]"));
        rows.add(row("weights missing a tensor, with one the model lacks", d -> weights(d, Map.of("fc.weight", Shape.of(2, 4), "fc.b", Shape.of(2)),
                        null, 0, 0f), HostileFilesTest::loadWeights, IllegalArgumentException.class,
                F + " does not fit the model: missing 'fc.bias' [2]; unexpected tensor 'fc.b' (not a parameter of this model)"));
        rows.add(row("weights holding NaN", d -> weights(d, Map.of("fc.weight", Shape.of(2, 4), "fc.bias", Shape.of(2)), "fc.weight", 5, Float.NaN),
                HostileFilesTest::loadWeights, IllegalArgumentException.class,
                F + ": tensor 'fc.weight' [2, 4] holds 1 value that is not finite (the first, at index 5, is NaN); "
                        + "refusing to load weights that are NaN or infinite"));
        rows.add(row("weights holding infinity as F16", HostileFilesTest::halfInfinity, HostileFilesTest::loadWeights,
                IllegalArgumentException.class, F + ": tensor 'fc.bias' [2] holds 2 values that are not finite (the first, at index 0, is "
                        + "Infinity); refusing to load weights that are NaN or infinite"));
        rows.add(row("checkpoint holding NaN", d -> weights(d, Map.of("fc.weight", Shape.of(2, 4), "fc.bias", Shape.of(2)), "fc.bias", 1,
                        Float.NEGATIVE_INFINITY),
                HostileFilesTest::restoreCheckpoint, IllegalArgumentException.class,
                F + ": tensor 'fc.bias' [2] holds 1 value that is not finite (the first, at index 1, is -Infinity); "
                        + "refusing to load weights that are NaN or infinite"));
        // ---- deployment YAML -------------------------------------------------------------------
        rows.add(row("YAML billion laughs", d -> write(d, "deploy.yaml", laughs().getBytes(StandardCharsets.UTF_8)),
                HostileFilesTest::deployment, ModelException.class,
                F + ":1:10: error: YAML anchors (&a) are not allowed in a deployment file"));
        rows.add(row("YAML nested 10,000 deep", d -> write(d, "deploy.yaml", ("plugins: " + "[".repeat(10_000)).getBytes(StandardCharsets.UTF_8)),
                HostileFilesTest::deployment, ModelException.class, null));
        rows.add(row("YAML of 50 MiB", d -> sparse(d.resolve("deploy.yaml"), "backend: cpu\n".getBytes(StandardCharsets.UTF_8), 50L << 20),
                HostileFilesTest::deployment, ModelException.class,
                F + ":1:1: error: the file is 52428800 bytes; a deployment file may be at most 1048576 bytes"));
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void isRefusedClearlyWithBoundedMemory(String name, Maker maker, Reader reader, Class<? extends Throwable> type, String message)
            throws IOException {
        Path file = maker.make(dir);
        HeapPeak.Measured run = HeapPeak.during(() -> reader.read(file));
        assertNotNull(run.thrown(), name + " was accepted");
        assertInstanceOf(type, run.thrown(), () -> name + " failed with " + run.thrown());
        String text = run.thrown().getMessage();
        if (message != null) assertEquals(message.replace(F, file.toString()), text);
        else assertTrue(text.startsWith(file.toString()) && text.length() > file.toString().length() + 10, text);
        assertTrue(run.riseBytes() < HEAP_BOUND, name + ": the heap rose by " + (run.riseBytes() >> 20) + " MiB");
    }

    private static Arguments row(String name, Maker maker, Reader reader, Class<? extends Throwable> type, String message) {
        return Arguments.of(name, maker, reader, type, message);
    }

    // ---- readers -------------------------------------------------------------------------------

    private static void images(Path file) throws IOException {
        IdxReader.readImages(file, Normalization.NONE);
    }

    private static void labels(Path file) throws IOException {
        IdxReader.readLabels(file);
    }

    private static void safetensors(Path file) throws IOException {
        SafeTensors.read(file);
    }

    private static void loadWeights(Path file) throws IOException {
        try (ParameterStore store = TinyModel.store()) {
            Checkpoints.loadWeights(file, store);
        }
    }

    private static void restoreCheckpoint(Path file) throws IOException {
        try (ParameterStore store = TinyModel.store()) {
            Checkpoints.restore(file, Checkpoints.read(file), store);
        }
    }

    private static void deployment(Path file) throws IOException {
        DeploymentConfig.load(file);
    }

    // ---- makers --------------------------------------------------------------------------------

    private static Path write(Path dir, String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    /** A file of {@code size} bytes that starts with {@code head} and holds no disk blocks after it. */
    private static Path sparse(Path file, byte[] head, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(head));
            ch.write(ByteBuffer.wrap(new byte[] {0}), size - 1);
        }
        return file;
    }

    private static byte[] idx(int[] dims, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + payload.length).order(ByteOrder.BIG_ENDIAN);
        b.put((byte) 0).put((byte) 0).put((byte) 0x08).put((byte) dims.length);
        for (int d : dims) b.putInt(d);
        return b.put(payload).array();
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(bytes);
        }
        return out.toByteArray();
    }

    private static byte[] le(long value) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] safetensors(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return concat(concat(le(json.length), json), data);
    }

    /** 2,000 tensors all pointing at one 4 MiB block: 8 GiB of floats if each were read. */
    private static Path aliasedTensors(Path dir) throws IOException {
        StringBuilder header = new StringBuilder("{");
        for (int i = 0; i < 2000; i++) {
            header.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[1048576],\"data_offsets\":[0,4194304]}");
        }
        byte[] json = header.append('}').toString().getBytes(StandardCharsets.UTF_8);
        Path file = dir.resolve("w.safetensors");
        sparse(file, concat(le(json.length), json), 8 + json.length + (4L << 20));
        return file;
    }

    /** Weights for {@link TinyModel} with the given names and shapes, and {@code bad} at {@code badIndex} of {@code badTensor}. */
    private static Path weights(Path dir, Map<String, Shape> shapes, String badTensor, int badIndex, float bad) throws IOException {
        List<NamedTensor> tensors = new ArrayList<>();
        for (String name : List.of("fc.weight", "fc.bias", "fc.b")) {
            Shape shape = shapes.get(name);
            if (shape == null) continue;
            float[] data = new float[shape.size()];
            for (int i = 0; i < data.length; i++) data[i] = 0.25f * i;
            if (name.equals(badTensor)) data[badIndex] = bad;
            tensors.add(new NamedTensor(name, shape, data));
        }
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, tensors, Map.of(Checkpoints.MODEL, "Tiny", Checkpoints.EPOCH, "1", Checkpoints.STEP, "10"));
        return file;
    }

    /** {@code fc.bias} stored as F16 +inf and -inf, as a half-precision export that overflowed writes it. */
    private static Path halfInfinity(Path dir) throws IOException {
        String header = "{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,4],\"data_offsets\":[0,32]},"
                + "\"fc.bias\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[32,36]}}";
        ByteBuffer data = ByteBuffer.allocate(36).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 8; i++) data.putFloat(0.5f);
        data.putShort((short) 0x7C00).putShort((short) 0xFC00);
        return write(dir, "model.safetensors", safetensors(header, data.array()));
    }

    /** Ten levels of aliases, each naming the last one ten times: 10^10 strings if expanded. */
    private static String laughs() {
        StringBuilder y = new StringBuilder("plugins: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (char c = 'b'; c <= 'j'; c++) {
            char prev = (char) (c - 1);
            y.append(c).append(": &").append(c).append(" [").append(("*" + prev + ",").repeat(9)).append('*').append(prev).append("]\n");
        }
        return y.toString();
    }
}
