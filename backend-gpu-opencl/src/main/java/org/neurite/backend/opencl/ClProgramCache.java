package org.neurite.backend.opencl;

import static org.jocl.CL.CL_BUILD_PROGRAM_FAILURE;
import static org.jocl.CL.CL_PROGRAM_BINARIES;
import static org.jocl.CL.CL_PROGRAM_BINARY_SIZES;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.clBuildProgram;
import static org.jocl.CL.clCreateProgramWithBinary;
import static org.jocl.CL.clCreateProgramWithSource;
import static org.jocl.CL.clGetProgramBuildInfo;
import static org.jocl.CL.clGetProgramInfo;
import static org.jocl.CL.clReleaseProgram;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_program;
import org.neurite.io.AtomicFiles;

/**
 * Builds OpenCL programs and keeps their device binaries on disk, keyed by the SHA-256 of
 * (device identity, build options, source), so a second run loads the binary
 * ({@code clCreateProgramWithBinary}) instead of compiling the source again: compiling all of
 * Neurite's kernels takes seconds on PoCL's LLVM and on GPU drivers. The folder is
 * {@code $NEURITE_CACHE/opencl}, else {@code ~/.cache/neurite/opencl}. A binary the driver
 * refuses (a driver update) is deleted and the source compiled again. Each file starts with a
 * header and the SHA-256 of the binary, checked before the driver sees it: a truncated or damaged
 * file (a crash or a full disk while writing, a copy cut short) is never handed to the driver,
 * whose loader may abort the whole JVM on one (PoCL asserts {@code buffer <= end_of_buffer}), but
 * deleted and compiled again like a refused one. A failed source build throws with the compiler's
 * build log. Files are written atomically, so concurrent
 * runs at worst compile twice. {@link #sourceBuilds()} and {@link #binaryLoads()} count what
 * happened in this cache, which is how the tests observe a cache hit.
 */
final class ClProgramCache {
    /** What every cache file starts with; a file from before the header is compiled again once. */
    static final byte[] MAGIC = "NEURITE-CL-BINARY-1\n".getBytes(StandardCharsets.US_ASCII);
    private static final int DIGEST_BYTES = 32;

    private final Path directory;
    private final AtomicInteger sourceBuilds = new AtomicInteger();
    private final AtomicInteger binaryLoads = new AtomicInteger();

    /** A cache in {@code directory}, or none (always compile) when it is null. */
    ClProgramCache(Path directory) {
        this.directory = directory;
    }

    /** The cache folder of this user: {@code $NEURITE_CACHE/opencl} or {@code ~/.cache/neurite/opencl}. */
    static ClProgramCache standard() {
        String env = System.getenv("NEURITE_CACHE");
        Path root = env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache", "neurite");
        return new ClProgramCache(root.resolve("opencl"));
    }

    Path directory() { return directory; }

    /** Programs compiled from source by this cache. */
    int sourceBuilds() { return sourceBuilds.get(); }

    /** Programs loaded from a cached binary by this cache. */
    int binaryLoads() { return binaryLoads.get(); }

    /** Where per-device SGEMM tuning results live ({@code <hash of the device>.gemm}), or null without a cache folder. */
    Path tuningFile(String deviceKey) {
        return tuningFile(deviceKey, "gemm");
    }

    /** Where the per-device tuning result of {@code what} lives ({@code <hash of the device>.<what>}), or null without a cache folder. */
    Path tuningFile(String deviceKey, String what) {
        return directory == null ? null : directory.resolve(key(deviceKey, "", "") + "." + what);
    }

    /** How a program was obtained. */
    record Built(cl_program program, boolean fromCache, Path file) {}

    /**
     * A built program for {@code device}: from the cached binary when there is a valid one, else
     * compiled from {@code source} (and then cached).
     *
     * @param deviceKey what identifies the device and its driver (name, vendor, driver version)
     * @throws IllegalStateException when the source does not compile, with the build log
     */
    Built build(cl_context context, cl_device_id device, String deviceKey, String source, String options) {
        Path file = directory == null ? null : directory.resolve(key(deviceKey, options, source) + ".bin");
        if (file != null && Files.isRegularFile(file)) {
            cl_program cached = loadBinary(context, device, file, options);
            if (cached != null) {
                binaryLoads.incrementAndGet();
                return new Built(cached, true, file);
            }
        }
        cl_program program = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
        } catch (CLException e) {
            String log = buildLog(program, device);
            clReleaseProgram(program);
            if (e.getStatus() != CL_BUILD_PROGRAM_FAILURE) throw e;
            throw new IllegalStateException("OpenCL program build failed on " + deviceKey + " (options '" + options + "'):\n" + log, e);
        }
        sourceBuilds.incrementAndGet();
        if (file != null) save(program, file);
        return new Built(program, false, file);
    }

    /** The binary in {@code file} built for the device, or null (and the file deleted) when the driver refuses it. */
    private static cl_program loadBinary(cl_context context, cl_device_id device, Path file, String options) {
        cl_program program = null;
        try {
            byte[] binary = checkedBinary(Files.readAllBytes(file));
            if (binary == null) throw new IOException("not a complete cached binary: " + file);
            int[] status = new int[1];
            program = clCreateProgramWithBinary(context, 1, new cl_device_id[] {device}, new long[] {binary.length},
                    new byte[][] {binary}, status, null);
            clBuildProgram(program, 1, new cl_device_id[] {device}, options, null, null);
            return program;
        } catch (IOException | CLException e) {
            if (program != null) clReleaseProgram(program);
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // A cache file that cannot be deleted is only compiled around again next time.
            }
            return null;
        }
    }

    /** Writes the program's device binary to {@code file}; a cache that cannot be written only costs a recompile. */
    private static void save(cl_program program, Path file) {
        long[] sizes = new long[1];
        clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(sizes), null);
        if (sizes[0] <= 0 || sizes[0] > Integer.MAX_VALUE) return;
        byte[] binary = new byte[(int) sizes[0]];
        Pointer[] binaries = {Pointer.to(binary)};
        clGetProgramInfo(program, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(binaries), null);
        try {
            Files.createDirectories(file.getParent());
            byte[] digest = sha256(binary);
            AtomicFiles.write(file, out -> {
                out.write(MAGIC);
                out.write(digest);
                out.write(binary);
            });
        } catch (IOException e) {
            // Not fatal: the next run compiles the source again.
        }
    }

    /** The device binary in the bytes of a cache file, or null when the header or the digest do not match. */
    static byte[] checkedBinary(byte[] file) {
        int start = MAGIC.length + DIGEST_BYTES;
        if (file.length <= start || !Arrays.equals(file, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) return null;
        byte[] binary = Arrays.copyOfRange(file, start, file.length);
        return MessageDigest.isEqual(Arrays.copyOfRange(file, MAGIC.length, start), sha256(binary)) ? binary : null;
    }

    private static byte[] sha256(byte[] bytes) {
        return newSha256().digest(bytes);
    }

    /** A SHA-256 digest, which every JVM has (the Java SE specification requires it). */
    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    static String buildLog(cl_program program, cl_device_id device) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] log = new byte[(int) size[0]];
            clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null);
            int end = log.length;
            while (end > 0 && (log[end - 1] == 0 || log[end - 1] == '\n')) end--;
            return new String(log, 0, end, StandardCharsets.UTF_8);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    private static String key(String deviceKey, String options, String source) {
        MessageDigest sha = newSha256();
        for (String part : new String[] {deviceKey, options, source}) {
            sha.update(part.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
