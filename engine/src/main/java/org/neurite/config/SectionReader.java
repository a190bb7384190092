package org.neurite.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import java.util.ServiceLoader;
import org.neurite.diag.ModelException;

/**
 * Checks a deployment section for the optional module that serves it, found with
 * {@link ServiceLoader} by the section's key ({@code spark:} → {@code "spark"}). While the
 * module is on the class path, {@link DeploymentConfig#load} checks its section as strictly as
 * the engine's own keys, in file order, and keeps the settings resolved; without it the section is
 * kept as written, and the module checks it when it runs.
 */
public interface SectionReader {
    /** The deployment key of the section this reader checks, e.g. {@code "spark"}. */
    String name();

    /**
     * The section's settings with nothing left implicit (defaults filled in), in the order
     * {@link DeploymentConfig#toYaml()} should print them; reading that back resolves to the same.
     *
     * @throws ModelException for a bad key or value, positioned where it was written
     */
    JsonNode resolve(DeploymentSection section);

    /** The reader on the class path for the section {@code name}, if any. */
    static Optional<SectionReader> find(String name) {
        for (SectionReader r : ServiceLoader.load(SectionReader.class, SectionReader.class.getClassLoader())) {
            if (r.name().equals(name)) return Optional.of(r);
        }
        return Optional.empty();
    }
}
