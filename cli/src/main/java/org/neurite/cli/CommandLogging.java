package org.neurite.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.neurite.config.DeploymentConfig;
import org.neurite.config.DeploymentConfig.LogLevel;
import picocli.CommandLine.ParseResult;

/**
 * How much {@code nn} logs on standard error, through the slf4j-simple provider it binds. By
 * default only warnings and errors, so a command's output is the same as without logging;
 * {@code --verbose} turns on Neurite's INFO and DEBUG lines (plugins loaded, backend and device
 * chosen, data read); the {@code log_level} of the deployment given with {@code --deploy} sets
 * the level otherwise. Other libraries' loggers stay at WARN (ERROR when {@code log_level: error}).
 *
 * <p>slf4j-simple reads its settings from system properties: the format and the default level
 * once, when the first logger is created, and a logger's own level
 * ({@code org.slf4j.simpleLogger.log.org.neurite}) when that logger is created. Neurite's classes
 * create their loggers when they are first used, which is while a command runs; nothing in the
 * command line's own classes holds a logger. So {@link NnCommand} calls {@link #configure} after
 * picocli has parsed the arguments (when {@code --verbose} and {@code --deploy} are known) and
 * before the command runs, which is before any logger exists. A property already set when the
 * JVM started ({@code -Dorg.slf4j.simpleLogger.defaultLogLevel=...}) is left as the user set it.
 * In one JVM the first command fixes the levels of the loggers it creates (tests that check
 * logging run {@code nn} in a JVM of its own).
 */
final class CommandLogging {
    /** slf4j-simple's system property prefix. */
    static final String PREFIX = "org.slf4j.simpleLogger.";
    /** The level of every logger under {@code org.neurite}. */
    static final String NEURITE_LEVEL = PREFIX + "log.org.neurite";
    static final String DEFAULT_LEVEL = PREFIX + "defaultLogLevel";

    /** The slf4j-simple properties the user set before {@code nn} ran: those are never overridden. */
    private static final Set<String> SET_BY_USER = System.getProperties().stringPropertyNames().stream()
            .filter(k -> k.startsWith(PREFIX)).collect(Collectors.toUnmodifiableSet());

    private CommandLogging() {}

    /** Sets slf4j-simple's properties for the command just parsed; never fails (a bad deployment is the command's to report). */
    static void configure(ParseResult parsed) {
        LogLevel level = level(parsed);
        // "[INFO] PluginLoader - plugin ... loaded from ...": the level and the class, no thread name.
        Map<String, String> settings = Map.of(
                PREFIX + "showThreadName", "false",
                PREFIX + "showShortLogName", "true",
                PREFIX + "levelInBrackets", "true",
                DEFAULT_LEVEL, level == LogLevel.ERROR ? "error" : "warn",
                NEURITE_LEVEL, level.name().toLowerCase(Locale.ROOT));
        settings.forEach((key, value) -> {
            if (!SET_BY_USER.contains(key)) System.setProperty(key, value);
        });
    }

    /**
     * The level for Neurite's loggers: DEBUG with {@code --verbose} (before or after the command's
     * name), else the {@code log_level} of the {@code --deploy} file, else WARN. A deployment that
     * cannot be read leaves WARN: the command reads it again and reports what is wrong.
     */
    static LogLevel level(ParseResult parsed) {
        boolean verbose = false;
        Path deployment = null;
        for (ParseResult r = parsed; r != null; r = r.hasSubcommand() ? r.subcommand() : null) {
            verbose |= r.hasMatchedOption("--verbose");
            if (r.hasMatchedOption("--deploy")) deployment = r.matchedOptionValue("--deploy", deployment);
        }
        if (verbose) return LogLevel.DEBUG;
        if (deployment == null) return LogLevel.WARN;
        try {
            return DeploymentConfig.load(deployment).logLevel();
        } catch (Exception unreadable) {
            return LogLevel.WARN;
        }
    }
}
