package org.neurite.spark;

import com.fasterxml.jackson.databind.JsonNode;
import org.neurite.config.DeploymentSection;
import org.neurite.config.SectionReader;

/**
 * Checks a deployment's {@code spark:} section while the file is read (found by the engine with
 * {@link java.util.ServiceLoader}), so {@code nn config check} and {@code nn train --deploy}
 * refuse a bad section at its key or value and print it with every setting spelled out.
 * Loads no Spark class.
 */
public final class SparkSectionReader implements SectionReader {
    @Override public String name() { return SparkConfig.SECTION; }

    @Override public JsonNode resolve(DeploymentSection section) {
        return SparkConfig.from(section).section().value();
    }
}
