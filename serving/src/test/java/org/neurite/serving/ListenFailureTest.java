package org.neurite.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.neurite.config.DeploymentConfig;

/**
 * A server that cannot listen says why in one sentence (an IllegalArgumentException, which
 * {@code nn serve} prints as one line with exit status 2) and logs nothing besides.
 */
class ListenFailureTest {
    @TempDir static Path dir;
    private static ModelFixture lenet;
    private static DeploymentConfig deployment;

    @BeforeAll static void load() throws Exception {
        lenet = new ModelFixture("lenet5", 5, dir);
        deployment = DeploymentConfig.load(lenet.deployment(dir, "lenet5", 1, 0, 4));
    }

    @AfterAll static void close() {
        lenet.close();
    }

    private static ServeConfig on(String host, int port) {
        ServeConfig c = ServeConfig.from(deployment.serve());
        return new ServeConfig(host, port, c.maxBodyBytes(), c.models());
    }

    @Test void aHostThatDoesNotResolveIsNamed() {
        for (String host : new String[] {"256.1.1.1", "no.such.host.invalid"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> InferenceServer.start(on(host, 0), deployment, dir, w -> { }).stop());
            assertEquals("cannot resolve host '" + host + "' (serve.host, or --host)", e.getMessage());
        }
    }

    @Test void aPortInUseIsNamedAndJavalinLogsNothing() throws Exception {
        try (InferenceServer first = InferenceServer.start(on("127.0.0.1", 0), deployment, dir, w -> { })) {
            PrintStream err = System.err;
            ByteArrayOutputStream logged = new ByteArrayOutputStream();
            IllegalArgumentException e;
            System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
            try {
                e = assertThrows(IllegalArgumentException.class,
                        () -> InferenceServer.start(on("127.0.0.1", first.port()), deployment, dir, w -> { }).stop());
            } finally {
                System.setErr(err);
            }
            assertEquals("cannot listen on 127.0.0.1:" + first.port() + ": Address already in use (serve.host and serve.port, or --host and --port)",
                    e.getMessage());
            assertFalse(logged.toString(StandardCharsets.UTF_8).contains("Failed to start Javalin"), logged.toString(StandardCharsets.UTF_8));
        }
    }
}
