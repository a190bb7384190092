package org.neurite.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The top level of the command line: what `nn` alone and `nn --version` say. */
class NnCommandTest {
    @Test void nnAloneListsEveryCommandWithItsDescription() {
        CliRunner.Result r = CliRunner.run();
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertTrue(r.err().startsWith("nn: missing command; one of:\n"), r.err());
        var commands = NnCommand.commandLine().getSubcommands();
        assertTrue(commands.size() >= 15, "commands: " + commands.keySet());
        for (var entry : commands.entrySet()) {
            String summary = NnCommand.summary(entry.getValue().getCommandSpec());
            assertTrue(!summary.isEmpty() && !summary.contains("%"), entry.getKey() + ": " + summary);
            assertTrue(r.err().contains(String.format("  %-10s %s%n", entry.getKey(), summary)), entry.getKey() + " is missing:\n" + r.err());
        }
    }

    @Test void versionIsTheBuildsNotAConstant() {
        CliRunner.Result r = CliRunner.run("--version");
        assertEquals(0, r.exit(), r.err());
        String version = BuildVersion.version();
        // the pom's version, written by resource filtering (an unfiltered file would say ${project.version})
        assertTrue(version.matches("\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), version);
        assertTrue(r.out().startsWith("Neurite " + version + "\nJava " + Runtime.version()), r.out());
    }
}
