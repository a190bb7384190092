package org.neurite.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --plugins DIR}, repeatable, on every command that loads plugins: folders whose
 * {@code *.jar} files are loaded as plugins, each jar in its own class loader, after those on the
 * class path and those the deployment's {@code plugins:} names.
 */
final class PluginsOption {
    @Option(names = "--plugins", paramLabel = "DIR",
            description = "a folder of plugin jars, each loaded in its own class loader (repeatable; added to the deployment's plugins)")
    List<Path> folders = new ArrayList<>();
}
