package org.neurite.serving;

import java.nio.file.Path;
import org.neurite.config.DeploymentConfig;
import org.neurite.diag.ModelException;

/**
 * {@code java org.neurite.serving.ServeMain deploy.yaml}: serves a deployment's {@code serve:}
 * section until SIGTERM or Ctrl-C, then stops gracefully and exits 0; {@code nn serve} does the
 * same with the CLI's options and messages. Prints {@code listening on HOST:PORT} once ready and,
 * when stopped, how many accepted requests were answered.
 */
public final class ServeMain {
    private ServeMain() { }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ServeMain DEPLOY.yaml");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        DeploymentConfig deployment;
        try {
            deployment = DeploymentConfig.load(file);
        } catch (ModelException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        if (deployment.serve() == null) {
            System.err.println(file + ": no serve: section");
            System.exit(2);
        }
        ServeConfig config = ServeConfig.from(deployment.serve());
        InferenceServer server;
        try {
            server = InferenceServer.start(config, deployment, file.toAbsolutePath().getParent(), w -> System.err.println("warning: " + w));
        } catch (IllegalArgumentException e) {
            // A host that does not resolve, a port in use, a model that is not in its script: one line.
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("listening on " + server.address() + " " + server.backends());
        System.out.flush();
        server.runUntilSignalled();
        System.out.println("stopped: answered " + server.answered() + " of " + server.accepted() + " accepted requests");
        System.out.flush();
        System.exit(0);
    }
}
