package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code nn config check} loads the deployment's {@code plugins:} as every other command does: a
 * folder that is missing or holds a jar that is not one is the same one line and exit 2 there,
 * not a deployment passed as valid that {@code nn train} then refuses.
 */
class ConfigCheckPluginsTest {
    @TempDir Path dir;

    @Test void aMissingPluginFolderIsRefused() throws Exception {
        Path yaml = Files.writeString(dir.resolve("deploy.yaml"), "backend: cpu\nplugins: [nothere]\n");
        for (String[] args : new String[][] {{"config", "check", yaml.toString()}, {"config", "check", yaml.toString(), "--json"}}) {
            CliRunner.Result r = CliRunner.run(args);
            assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.out() + r.err());
            assertEquals("", r.out());
            assertEquals("nn: plugin folder " + dir.resolve("nothere") + " does not exist\n", r.err());
        }
    }

    @Test void aBrokenJarInThePluginFolderIsRefused() throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path jar = Files.writeString(plugins.resolve("broken.jar"), "not a zip\n");
        Path yaml = Files.writeString(dir.resolve("deploy.yaml"), "backend: cpu\nplugins: [plugins]\n");
        CliRunner.Result r = CliRunner.run("config", "check", yaml.toString());
        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r.out() + r.err());
        assertEquals("", r.out());
        assertEquals("nn: plugin jar " + jar + " is not a jar file (zip END header not found)\n", r.err());
    }
}
