package org.neurite.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The rule for a file a command writes where the user pointed it: never over one that is already
 * there unless they add {@code --overwrite}, checked before any work so a refusal costs nothing
 * (training's run folders follow the same rule, {@link RunFolder}). The write itself is atomic.
 */
final class ExistingOutput {
    private ExistingOutput() {}

    /**
     * Refuses, as bad input (exit 2), when {@code file} exists and {@code overwrite} is off;
     * {@code option} names the flag that chose the file (or would choose another).
     */
    static void refuse(Path file, boolean overwrite, String option) {
        if (!overwrite && Files.exists(file)) {
            throw new BadInputException(file + " already exists; choose another " + option + ", or add --overwrite to replace it");
        }
    }
}
