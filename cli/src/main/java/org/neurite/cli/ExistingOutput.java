package org.neurite.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The {@code --overwrite} option of a command that writes files where the user points it, and the
 * rule it lifts: never over a file that is already there, checked before any work so a refusal
 * costs nothing (training's run folders follow the same rule, {@link RunFolder}). The writes
 * themselves are atomic. A picocli mixin.
 */
final class ExistingOutput {
    @Option(names = "--overwrite", description = "replace output files that are there already")
    boolean overwrite;

    /**
     * Refuses, as bad input (exit 2), when {@code file} exists and {@code --overwrite} was not
     * given; {@code option} names the flag that chose the file (or would choose another). A
     * folder there is refused with or without {@code --overwrite}: no file can replace it, so
     * saying "add --overwrite" would only send the user into a failure after all the work.
     */
    void refuse(Path file, String option) {
        if (Files.isDirectory(file)) {
            throw new BadInputException(file + ": a folder, not a file; name a file for " + option);
        }
        if (!overwrite && Files.exists(file)) {
            throw new BadInputException(file + " already exists; choose another " + option + ", or add --overwrite to replace it");
        }
    }
}
