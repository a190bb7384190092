package org.neurite.backend.opencl;

import static org.jocl.CL.CL_PLATFORM_NOT_FOUND_KHR;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jocl.CL;
import org.jocl.CLException;

/**
 * Whether OpenCL can be used here and, when not, exactly why and how to fix it. {@link #probe()}
 * walks the chain a JOCL program needs: the loader library ({@code libOpenCL.so}, which JOCL opens
 * by its unversioned name), a driver registered with the ICD loader ({@code .icd} files in
 * {@code /etc/OpenCL/vendors} or {@code $OCL_ICD_VENDORS}), a platform, a device. What it finds
 * is a {@link Findings} record, and {@link Findings#problem()} turns it into the message
 * {@code nn backends} prints, so the wording of every failure is tested without breaking OpenCL.
 */
final class ClAvailability {
    /** Where Debian, Fedora and most other Linux systems keep shared libraries. */
    private static final List<String> LIBRARY_DIRS = List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/lib64", "/lib");

    /** The first failure to load JOCL's native side; later attempts only see "could not initialize class". */
    private static volatile String libraryError;

    private ClAvailability() {}

    /**
     * What a probe found.
     *
     * @param libraryError why the OpenCL library could not be loaded, or null when it was
     * @param versionedLoaderFound whether {@code libOpenCL.so.1} exists in a usual library folder
     * @param icdDirectory the folder the ICD loader reads
     * @param icdFiles the {@code .icd} files in it
     * @param platforms platform names (empty when none was found)
     * @param devices every device found
     * @param vendorsOverride {@code $OCL_ICD_VENDORS} when it is set but names no folder: ocl-icd then
     *     loads that one {@code .icd} file or library and reads no folder at all; null otherwise
     */
    record Findings(String libraryError, boolean versionedLoaderFound, Path icdDirectory, List<String> icdFiles,
                    List<String> platforms, List<ClDevices.Found> devices, String vendorsOverride) {

        Findings(String libraryError, boolean versionedLoaderFound, Path icdDirectory, List<String> icdFiles,
                 List<String> platforms, List<ClDevices.Found> devices) {
            this(libraryError, versionedLoaderFound, icdDirectory, icdFiles, platforms, devices, null);
        }

        /** Null when a device is usable; otherwise what is missing and the command that fixes it. */
        String problem() {
            if (libraryError != null) {
                if (versionedLoaderFound)
                    return "no libOpenCL.so: JOCL opens the OpenCL loader by its unversioned name, and this machine has only "
                            + "libOpenCL.so.1 (" + libraryError + "); install the link with 'apt-get install ocl-icd-opencl-dev' "
                            + "(or create libOpenCL.so -> libOpenCL.so.1 in a library folder)";
                return "no OpenCL library: JOCL could not load libOpenCL.so (" + libraryError + "); install the ICD loader and "
                        + "a driver: 'apt-get install ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd' (PoCL runs OpenCL "
                        + "on the CPU), or your GPU vendor's OpenCL driver";
            }
            if (platforms.isEmpty()) {
                if (vendorsOverride != null)
                    return "no OpenCL platform: OCL_ICD_VENDORS=" + vendorsOverride + " is not a folder, so the ICD loader "
                            + "takes it for the one driver to load (an .icd file or a library) instead of reading "
                            + "/etc/OpenCL/vendors, and that gave no platform; unset OCL_ICD_VENDORS, or point it at a folder "
                            + "of .icd files";
                if (icdFiles.isEmpty())
                    return "no OpenCL platform: no driver is registered with the ICD loader (" + icdDirectory + " has no .icd "
                            + "files); install one with 'apt-get install pocl-opencl-icd' for the CPU, or, where the NVIDIA driver "
                            + "is installed, register it with 'echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd'";
                return "no OpenCL platform: " + icdDirectory + " registers " + String.join(", ", icdFiles)
                        + " but none of the libraries they name gave a platform: each is missing, or loads but is no "
                        + "OpenCL driver; check that each file names an installed OpenCL driver library "
                        + "(libnvidia-opencl.so.1 comes with the NVIDIA driver, libpocl.so with pocl-opencl-icd)";
            }
            if (devices.isEmpty())
                return "no OpenCL device: platform" + (platforms.size() == 1 ? " " : "s ") + String.join(", ", platforms)
                        + " report" + (platforms.size() == 1 ? "s" : "") + " no devices; check that the GPU driver is loaded "
                        + "(nvidia-smi) or list what OpenCL sees with 'clinfo'";
            return null;
        }
    }

    /** Probes this machine (loads JOCL when it can). */
    static Findings probe() {
        Path icdDirectory = icdDirectory();
        List<String> icdFiles = icdFiles(icdDirectory);
        String vendors = System.getenv("OCL_ICD_VENDORS");
        String vendorsOverride = vendors != null && !vendors.isBlank() && !Files.isDirectory(Path.of(vendors)) ? vendors : null;
        String loadError = loadLibrary();
        if (loadError != null)
            return new Findings(loadError, versionedLoaderFound(), icdDirectory, icdFiles, List.of(), List.of(), vendorsOverride);
        List<ClDevices.Found> devices;
        List<String> platforms = new ArrayList<>();
        try {
            devices = ClDevices.list();
            platforms.addAll(ClDevices.platformNames());
        } catch (CLException e) {
            if (e.getStatus() != CL_PLATFORM_NOT_FOUND_KHR) throw e;
            devices = List.of();
        }
        return new Findings(null, true, icdDirectory, icdFiles, platforms, devices, vendorsOverride);
    }

    /** Null when JOCL and libOpenCL.so load; otherwise the loader's message. */
    private static String loadLibrary() {
        if (libraryError != null) return libraryError;
        try {
            CL.setExceptionsEnabled(true);
            return null;
        } catch (LinkageError e) {
            libraryError = e.getMessage() == null ? e.toString() : e.getMessage();
            return libraryError;
        }
    }

    /** {@code $OCL_ICD_VENDORS} when it names a folder (ocl-icd honours it), else {@code /etc/OpenCL/vendors}. */
    static Path icdDirectory() {
        String env = System.getenv("OCL_ICD_VENDORS");
        if (env != null && !env.isBlank() && Files.isDirectory(Path.of(env))) return Path.of(env);
        return Path.of("/etc/OpenCL/vendors");
    }

    private static List<String> icdFiles(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".icd")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static boolean versionedLoaderFound() {
        List<String> dirs = new ArrayList<>(LIBRARY_DIRS);
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) dirs.addAll(List.of(ld.split(":")));
        for (String dir : dirs) {
            if (!dir.isEmpty() && Files.exists(Path.of(dir, "libOpenCL.so.1"))) return true;
        }
        return false;
    }
}
