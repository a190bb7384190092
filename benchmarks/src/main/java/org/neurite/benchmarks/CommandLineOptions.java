package org.neurite.benchmarks;

/**
 * The {@code --name value} options of the benchmark mains (run by hand and by the peer
 * scripts, so a plain scan is enough: the first occurrence wins, a missing one takes the default).
 */
final class CommandLineOptions {
    private CommandLineOptions() {}

    static String stringOption(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) if (args[i].equals(name)) return args[i + 1];
        return fallback;
    }

    static int intOption(String[] args, String name, int fallback) {
        String value = stringOption(args, name, null);
        return value == null ? fallback : Integer.parseInt(value);
    }
}
