package org.neurite.cli;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.Charset;

/**
 * The standard error the {@code nn} launcher hands over as another file descriptor.
 *
 * <p>The JDK prints a warning about the incubator module the CPU backend uses on the JVM's
 * standard error as it starts, and no option turns it off; the launcher therefore sends the JVM's
 * descriptor 2 through a filter process that drops that one line. A filter runs on after the JVM
 * has exited, so a last message could reach the terminal after the shell's prompt, or a file
 * after the caller has read it. The launcher also passes its own standard error as the descriptor
 * the system property {@value #PROPERTY} names, and everything nn prints goes there directly ({@link #adopt}): written
 * before the process exits, through the caller's own descriptor (same file offset, same pipe).
 * Only what the JVM itself prints (its start-up warnings and errors) goes through the filter.
 */
final class LauncherStandardError {
    /**
     * The system property naming the descriptor, set by the launcher on its java command line (a
     * property, not an environment variable: processes nn starts do not inherit the descriptor).
     */
    static final String PROPERTY = "neurite.stderrFd";

    private LauncherStandardError() {}

    /**
     * Makes {@link System#err} write to the descriptor {@value #PROPERTY} names; nothing when it is
     * unset (nn started without the launcher) or when {@code java.io} is not open to this code
     * (the launcher opens it with {@code --add-opens}; without it standard error stays the
     * filtered one, complete and in order, only possibly late).
     */
    static void adopt() {
        String value = System.getProperty(PROPERTY);
        if (value == null || !value.matches("[0-9]+")) return;
        try {
            // java.io.FileDescriptor has no public way to name an inherited descriptor; its field is the only one.
            FileDescriptor descriptor = new FileDescriptor();
            Field fd = FileDescriptor.class.getDeclaredField("fd");
            fd.setAccessible(true);
            fd.setInt(descriptor, Integer.parseInt(value));
            // As the JVM makes System.err: a small buffer flushed at every line.
            System.setErr(new PrintStream(new BufferedOutputStream(new FileOutputStream(descriptor), 128), true,
                    Charset.defaultCharset()));
        } catch (ReflectiveOperationException | RuntimeException notOpen) {
            // Keep the JVM's standard error.
        }
    }
}
