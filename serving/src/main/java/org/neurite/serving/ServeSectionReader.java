package org.neurite.serving;

import com.fasterxml.jackson.databind.JsonNode;
import org.neurite.config.DeploymentSection;
import org.neurite.config.SectionReader;

/**
 * Checks a deployment's {@code serve:} section while the file is read (found by the engine with
 * {@link java.util.ServiceLoader}), so {@code nn config check} and {@code nn serve --deploy}
 * refuse a bad section at its key or value and print it with every setting spelled out.
 */
public final class ServeSectionReader implements SectionReader {
    @Override public String name() { return ServeConfig.SECTION; }

    @Override public JsonNode resolve(DeploymentSection section) {
        return ServeConfig.from(section).section().value();
    }
}
