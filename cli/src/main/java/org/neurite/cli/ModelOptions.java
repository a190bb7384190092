package org.neurite.cli;

import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The script argument and the deployment options shared by model commands. */
final class ModelOptions {
    @Parameters(index = "0", paramLabel = "MODEL.nn", description = "the model script")
    Path script;

    @Option(names = "--model", paramLabel = "NAME", description = "which model of the script (default: the one the train section names, else the last)")
    String model;

    @Option(names = "--deploy", paramLabel = "YAML", description = "deployment file: backend, threads, ...")
    Path deployment;

    @Option(names = "--backend", paramLabel = "NAME", description = "backend name, overriding the deployment (default cpu)")
    String backend;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads, overriding the deployment (0 = all cores)")
    Integer threads;

    @Mixin PluginsOption plugins = new PluginsOption();
}
