package org.neurite.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.io.SafeTensors;

/**
 * The Java embedding example, run as a user would: LeNet-5 from its script, two epochs of the
 * engine's training run on 1,024 Fashion-MNIST images, then predictions for eight test images.
 */
class EmbeddingExampleTest {
    @TempDir Path out;

    @Test void trainsLeNetWithTheEnginesRunAndPredicts() throws Exception {
        EmbeddingExample.Outcome o = EmbeddingExample.train(Path.of("lenet5.nn"), out, 2, 1024);

        assertNull(o.result().stoppedAt(), "every epoch ran");
        assertEquals(2, o.result().train().epoch());
        // Ten classes: chance is 10%; two epochs of 1,024 images reach well above it.
        assertTrue(o.result().test().accuracy() > 0.4, "test accuracy " + o.result().test().accuracy());
        int right = 0;
        for (int i = 0; i < o.predicted().length; i++) if (o.predicted()[i] == o.labels()[i]) right++;
        assertTrue(right >= 3, right + " of 8 test images predicted right");

        assertEquals(2, Files.readAllLines(out.resolve("metrics.jsonl")).size(), "one metrics record per epoch");
        var checkpoint = SafeTensors.read(out.resolve("checkpoint.safetensors"));
        assertEquals("2", checkpoint.metadata().get("neurite.epoch"));
        assertEquals("32", checkpoint.metadata().get("neurite.step"), "1,024 / batch 64 = 16 steps per epoch");
        assertEquals(Double.toString(o.result().test().accuracy()),
                SafeTensors.read(out.resolve("model.safetensors")).metadata().get("neurite.test_accuracy"));
    }
}
