package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.config.DeploymentConfig;

/**
 * {@code /classify} labels its classes with the names of the data the script's train section
 * learns: LeNet-5 without its train section (as {@code nn import} writes scripts) answers classes
 * alone, not the default dataset's Fashion-MNIST names.
 */
class ClassifyLabelsTest {
    @TempDir Path dir;

    @Test
    void aScriptWithoutATrainSectionAnswersClassesWithoutLabels() throws Exception {
        String lenet = Files.readString(ModelFixture.EXAMPLES.resolve("lenet5.nn"));
        Path script = Files.writeString(dir.resolve("lenet_untrained.nn"), lenet.substring(0, lenet.indexOf("\ntrain ")) + "\n");
        try (ModelFixture model = new ModelFixture(script, 5, dir)) {
            DeploymentConfig deployment = DeploymentConfig.load(model.deployment(dir, "plain", 4, 1, 16));
            InferenceServer server = InferenceServer.start(ServeConfig.from(deployment.serve()), deployment, dir, w -> { });
            try {
                BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                ByteArrayOutputStream png = new ByteArrayOutputStream();
                ImageIO.write(image, "png", png);
                V2Client.Reply r = new V2Client(server.port()).post("/v2/models/plain/classify?top_k=2", png.toByteArray(),
                        Map.of("Content-Type", "image/png"));
                assertEquals(200, r.status(), r.body());
                assertEquals(2, r.json().path("predictions").size());
                for (var p : r.json().path("predictions")) assertFalse(p.has("label"), p.toString());
            } finally {
                server.stop();
            }
        }
    }
}
