package org.neurite.it.durability;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.neurite.io.NamedTensor;
import org.neurite.io.SafeTensors;
import org.neurite.tensor.Shape;

/**
 * The child process of {@link KillDuringWriteTest}: writes version 1, 2, 3, ... of a large
 * checkpoint to one file for ever, through {@link SafeTensors#write} (and so
 * {@link org.neurite.io.AtomicFiles}), and prints {@code wrote N} after each write returns. Each
 * version holds {@code payload} (values that depend on the version), {@code version} and
 * {@code checksum} (the CRC-32 of the payload's bits, split in two 16-bit halves so a float holds
 * each exactly): a reader can tell which version it got and that every byte of it is there.
 */
public final class CheckpointWriter {
    /** 2 Mi floats: an 8 MiB file, so a write takes long enough to be killed in the middle of. */
    static final int PAYLOAD = 2 << 20;

    private CheckpointWriter() {}

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        for (int version = 1; ; version++) {
            SafeTensors.write(file, version(version), Map.of("writer", "CheckpointWriter"));
            System.out.println("wrote " + version);
            System.out.flush();
        }
    }

    static List<NamedTensor> version(int version) {
        float[] payload = new float[PAYLOAD];
        for (int i = 0; i < payload.length; i++) payload[i] = (version * 7919 + i) & 0xFFFF;
        long crc = crc(payload);
        return List.of(new NamedTensor("payload", Shape.of(PAYLOAD), payload),
                new NamedTensor("version", Shape.of(1), new float[] {version}),
                new NamedTensor("checksum", Shape.of(2), new float[] {crc >>> 16, crc & 0xFFFF}));
    }

    /** CRC-32 of the values' little-endian bytes, as the file stores them. */
    static long crc(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }
}
