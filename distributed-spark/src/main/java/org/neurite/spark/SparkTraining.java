package org.neurite.spark;

import java.io.IOException;
import java.nio.file.Path;
import org.neurite.config.DeploymentConfig;
import org.neurite.engine.DistributedTraining;

/**
 * {@code nn train} on Apache Spark: serves deployments with a {@code spark:} section (found by
 * the CLI through {@link java.util.ServiceLoader}). See {@link SparkRun} for how a step runs.
 */
public final class SparkTraining implements DistributedTraining {
    @Override public String name() { return "spark"; }

    /** {@code spark.data}, a Hadoop file-system URI, copied to a local folder for the driver's test split. */
    @Override public Path dataFolder(DeploymentConfig deployment) throws IOException {
        if (deployment.spark() == null) return null;
        SparkConfig config = SparkConfig.from(deployment.spark());
        return config.data() == null ? null : HadoopData.localCopy(config.data());
    }

    @Override public Run open(Job job) {
        if (job.deployment().spark() == null) throw new IllegalArgumentException("the deployment has no spark: section");
        return new SparkRun(job, SparkConfig.from(job.deployment().spark()));
    }
}
