package org.neurite.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes files so that readers see either the old content or the complete new content, never a
 * torn file: the data goes to a temporary file in the same folder, is forced to disk, and is
 * renamed over the target. When anything fails on the way (the disk is full, the folder is read
 * only), the temporary file is removed, the target keeps its previous content, and the
 * exception names the target and the reason, so a message can say which file was not written.
 *
 * <p>A process killed outright ({@code kill -9}, power loss) cannot remove its temporary file: a
 * {@code .NAME.*.tmp} may stay beside the target, which is itself whole, old or new.
 *
 * <p>A target that is a symbolic link is written through: the file it points to is replaced
 * (its temporary file beside that one) and the link stays, as a plain write would do. Renaming
 * over the link itself would have turned it into a regular file and left its target as it was.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Replaces {@code target} with what {@code writer} writes, or leaves it as it was.
     *
     * @throws IOException "could not write TARGET: REASON", with the original as its cause; a
     *         {@link FileFormatException} from the writer passes through unchanged
     */
    public static void write(Path target, Writer writer) throws IOException {
        try {
            replace(target, writer);
        } catch (FileFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException("could not write " + target + ": " + reason(e, target)
                    + (Files.isRegularFile(target) ? "; its previous content is unchanged" : ""), e);
        }
    }

    /**
     * The file system's complaint in words: its exceptions often carry only a path, named here
     * unless it is the target itself (then "could not write TARGET" has said it already).
     */
    private static String reason(IOException e, Path target) {
        if (e instanceof java.nio.file.FileAlreadyExistsException fs) return fs.getFile() + " is in the way (it exists and is not a folder)";
        if (e instanceof java.nio.file.FileSystemException fs) {
            String path = fs.getFile() == null || fs.getFile().equals(target.toString()) ? "" : " (" + fs.getFile() + ")";
            if (e instanceof java.nio.file.AccessDeniedException) return "permission denied" + path;
            if (e instanceof java.nio.file.NoSuchFileException) return "no such file or folder" + path;
            if (fs.getReason() != null) return fs.getReason() + path;
        }
        return e.getMessage();
    }

    private static void replace(Path link, Writer writer) throws IOException {
        Path target = throughLinks(link);
        // Else the rename below fails with "Is a directory" naming only the temporary file.
        if (Files.isDirectory(target)) throw new java.nio.file.FileSystemException(link.toString(), null, "a folder, not a file");
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        } catch (java.nio.file.FileSystemException e) {
            // It names the temporary file, which the user never chose: the folder is what cannot be
            // written (permissions, a read-only mount, a file system that makes no files such as /proc).
            java.nio.file.FileSystemException inFolder = e instanceof java.nio.file.AccessDeniedException
                    ? new java.nio.file.AccessDeniedException(dir.toString())
                    : e instanceof java.nio.file.NoSuchFileException ? new java.nio.file.NoSuchFileException(dir.toString())
                    : new java.nio.file.FileSystemException(dir.toString(), null, e.getReason());
            inFolder.initCause(e);
            throw inFolder;
        }
        boolean done = false;
        try {
            keepPermissions(target, tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 16)) {
                writer.write(out);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) Files.deleteIfExists(tmp);
        }
    }

    /** The file {@code path} names once its symbolic links are followed (it may not exist yet); {@code path} when it is none. */
    private static Path throughLinks(Path path) throws IOException {
        Path file = path;
        for (int hops = 0; Files.isSymbolicLink(file); hops++) {
            if (hops == 40) throw new java.nio.file.FileSystemLoopException(path.toString());   // Linux's limit (ELOOP)
            Path parent = file.toAbsolutePath().getParent();
            file = parent.resolve(Files.readSymbolicLink(file));
        }
        return file;
    }

    /**
     * Temporary files are created readable by the owner only; the replacement gets the target's
     * permissions, or rw-r--r-- for a new file, as a plain write would give.
     */
    private static void keepPermissions(Path target, Path tmp) throws IOException {
        if (!tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) return;
        var permissions = Files.exists(target) ? Files.getPosixFilePermissions(target)
                : java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(tmp, permissions);
    }

    public static void writeString(Path target, String text) throws IOException {
        write(target, out -> out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
}
