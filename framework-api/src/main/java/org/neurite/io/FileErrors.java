package org.neurite.io;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;

/**
 * The file system's complaints in words. {@code java.nio}'s exceptions often carry only a path
 * ({@code AccessDeniedException: noread.nn}) and a read of a folder only the operating system's
 * "Is a directory", with no path: these give the reason a user can act on, and
 * {@link #requireFile} refuses a folder before it is opened, naming it.
 */
public final class FileErrors {
    private FileErrors() {}

    /** The text of a UTF-8 file; one that is not UTF-8 is a {@link FileFormatException} naming it (the decoder names nothing). */
    public static String readUtf8(Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (CharacterCodingException e) {
            throw new FileFormatException(file + ": not valid UTF-8 text");
        }
    }

    /** The lines of a UTF-8 file, as {@link #readUtf8} refuses one that is not. */
    public static List<String> readUtf8Lines(Path file) throws IOException {
        try {
            return Files.readAllLines(file);
        } catch (CharacterCodingException e) {
            throw new FileFormatException(file + ": not valid UTF-8 text");
        }
    }

    /** "PATH: REASON" for an exception that names a file, else {@link #reason} alone. */
    public static String describe(IOException e) {
        if (e instanceof CharacterCodingException) return "a file is not valid UTF-8 text";   // its reader did not name it
        return e instanceof FileSystemException fs && fs.getFile() != null ? fs.getFile() + ": " + reason(e) : reason(e);
    }

    /** Why {@code e} happened, without the path: "permission denied", "not a folder", ... */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NoSuchFileException) return "no such file or folder";
        if (e instanceof NotDirectoryException) return "not a folder";
        if (e instanceof DirectoryNotEmptyException) return "the folder is not empty";
        if (e instanceof FileSystemLoopException) return "a loop of symbolic links";
        if (e instanceof FileAlreadyExistsException fs) {
            // Files.createDirectories says this of a file where a folder was to be.
            Path path = fs.getFile() != null ? Path.of(fs.getFile()) : null;
            if (path != null && Files.isRegularFile(path)) return "a file, not a folder";
            return path != null && Files.exists(path) && !Files.isDirectory(path) ? "it exists and is not a folder" : "it already exists";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) return inWords(fs.getReason());
        if (e instanceof CharacterCodingException) return "not valid UTF-8 text";
        return e.getMessage() != null ? inWords(e.getMessage()) : e.getClass().getSimpleName();
    }

    /**
     * Whether {@code e} is about a path the user gave rather than the machine: it cannot be read
     * or written for permissions or a read-only mount, is a file where a folder is needed or the other way round, is
     * in the way, or is not UTF-8 text. A full disk or a failing device is not.
     */
    public static boolean isAboutThePath(IOException e) {
        if (e instanceof AccessDeniedException || e instanceof NoSuchFileException || e instanceof NotDirectoryException
                || e instanceof DirectoryNotEmptyException || e instanceof FileSystemLoopException
                || e instanceof FileAlreadyExistsException || e instanceof CharacterCodingException) {
            return true;
        }
        String reason = e instanceof FileSystemException fs ? fs.getReason() : e.getMessage();
        return reason != null && switch (inWords(reason)) {
            case "a folder, not a file", "a part of the path is a file, not a folder", "permission denied",
                    "a read-only file system", "operation not permitted" -> true;
            default -> false;
        };
    }

    /** The operating system's wording ("Is a directory", strerror's) as the rest of Neurite's messages say it. */
    private static String inWords(String reason) {
        return switch (reason) {
            case "Is a directory" -> "a folder, not a file";
            case "Not a directory" -> "a part of the path is a file, not a folder";   // ENOTDIR: x/y where x is a file
            case "Permission denied" -> "permission denied";
            case "Read-only file system" -> "a read-only file system";          // EROFS: a read-only mount
            case "Operation not permitted" -> "operation not permitted";        // EPERM: an immutable file, /sys, /proc
            default -> reason;
        };
    }

    /**
     * Refuses a folder where a file is to be read (opening one succeeds on Linux and only the
     * first read fails, with "Is a directory" and no path).
     *
     * @throws FileSystemException "PATH: a folder, not a file" through {@link #describe}
     */
    public static void requireFile(Path file) throws FileSystemException {
        if (Files.isDirectory(file)) throw new FileSystemException(file.toString(), null, "a folder, not a file");
    }
}
