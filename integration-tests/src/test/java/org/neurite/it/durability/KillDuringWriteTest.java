package org.neurite.it.durability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.SafeTensors;

/**
 * {@code kill -9} in the middle of a checkpoint write leaves the previous checkpoint loadable.
 * Fifty times in a row a child JVM ({@link CheckpointWriter}) writes 8 MiB checkpoints to one
 * file in a loop and is killed with {@link Process#destroyForcibly()} at a random moment after
 * its first write; the file must then read back whole, as one of the versions the child wrote:
 * the last one it reported, or the next one if the kill came after the rename but before the
 * report. The payload's CRC-32 must match its checksum tensor, and the payload must be the one
 * its version number says. Temporary files that the killed writer left behind are counted to
 * show that the kills did land mid-write.
 */
class KillDuringWriteTest {
    private static final int ROUNDS = 50;

    @TempDir Path dir;

    @Test
    void theLastCompleteCheckpointSurvivesAKillAtAnyMoment() throws Exception {
        Path file = dir.resolve("checkpoint.safetensors");
        Random random = new Random(2026);
        int killedMidWrite = 0;
        for (int round = 0; round < ROUNDS; round++) {
            long tempsBefore = temporaryFiles();
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    // A small heap, the serial collector and the quick JIT start the child in a fraction of the default time.
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                    "-cp", System.getProperty("java.class.path"), CheckpointWriter.class.getName(), file.toString())
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            AtomicInteger reported = new AtomicInteger();
            Thread reader = readVersions(child, reported);
            try {
                // The first version must exist before a kill proves anything; then any moment will do.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (reported.get() < 1 && child.isAlive() && System.nanoTime() < deadline) Thread.sleep(2);
                assertTrue(reported.get() >= 1, "round " + round + ": the writer never finished a first checkpoint");
                Thread.sleep(random.nextInt(250));
            } finally {
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed writer did not exit");
                reader.join(5000);
            }
            int last = reported.get();
            SafeTensors.Contents contents = SafeTensors.read(file);
            int version = (int) contents.get("version").data()[0];
            assertTrue(version == last || version == last + 1, "round " + round + ": found version " + version + " after the writer reported " + last);
            float[] payload = contents.get("payload").data();
            float[] checksum = contents.get("checksum").data();
            long crc = CheckpointWriter.crc(payload);
            assertEquals(crc, ((long) checksum[0] << 16) | (long) checksum[1], "round " + round + ": payload does not match its checksum");
            assertArrayEquals(CheckpointWriter.version(version).get(0).data(), payload, "round " + round + ": payload of another version");
            if (temporaryFiles() > tempsBefore) killedMidWrite++;
        }
        // A kill between two writes proves nothing; most of the writer's time is spent writing.
        assertTrue(killedMidWrite >= ROUNDS / 5, "only " + killedMidWrite + " of " + ROUNDS + " kills landed during a write");
    }

    /** Counts the child's {@code wrote N} lines into {@code reported} until its output ends. */
    private static Thread readVersions(Process child, AtomicInteger reported) {
        Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("wrote ")) reported.set(Integer.parseInt(line.substring(6)));
                }
            } catch (IOException e) {
                // The child was killed: its output simply ends.
            }
        }, "checkpoint-writer-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Temporary files AtomicFiles left in the folder ({@code .checkpoint.safetensors.*.tmp}). */
    private long temporaryFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> temps = files.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
            return temps.size();
        }
    }
}
