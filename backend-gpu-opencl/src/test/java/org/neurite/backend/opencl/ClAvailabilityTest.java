package org.neurite.backend.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What {@code nn backends} says for each way OpenCL can be missing (the probe's findings are
 * records, so every case is written out here rather than broken on the machine), and how a
 * deployment's {@code device:} selects among devices. The real probe on this machine is
 * exercised by every other test class, which fails with this explanation when OpenCL is absent.
 */
class ClAvailabilityTest {
    private static final Path VENDORS = Path.of("/etc/OpenCL/vendors");
    private static final String LOAD_ERROR = "Could not initialize native OpenCL library. Implementation library could not be loaded";

    private static ClDevices.Found device(int index, String platform, String name, String type) {
        return new ClDevices.Found(new ClDeviceInfo(index, platform, name, type, 8, 4L << 30, "OpenCL 3.0", true), null, null);
    }

    private static ClAvailability.Findings findings(String error, boolean versioned, List<String> icds, List<String> platforms,
                                                     List<ClDevices.Found> devices) {
        return new ClAvailability.Findings(error, versioned, VENDORS, icds, platforms, devices);
    }

    @Test void onlyTheVersionedLoaderInstalled() {
        String why = findings(LOAD_ERROR, true, List.of("pocl.icd"), List.of(), List.of()).problem();
        assertEquals("no libOpenCL.so: JOCL opens the OpenCL loader by its unversioned name, and this machine has only libOpenCL.so.1 ("
                + LOAD_ERROR + "); install the link with 'apt-get install ocl-icd-opencl-dev' (or create libOpenCL.so -> "
                + "libOpenCL.so.1 in a library folder)", why);
    }

    @Test void noLoaderAtAll() {
        String why = findings(LOAD_ERROR, false, List.of(), List.of(), List.of()).problem();
        assertEquals("no OpenCL library: JOCL could not load libOpenCL.so (" + LOAD_ERROR + "); install the ICD loader and a driver: "
                + "'apt-get install ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd' (PoCL runs OpenCL on the CPU), "
                + "or your GPU vendor's OpenCL driver", why);
    }

    @Test void noDriverRegistered() {
        String why = findings(null, true, List.of(), List.of(), List.of()).problem();
        assertEquals("no OpenCL platform: no driver is registered with the ICD loader (/etc/OpenCL/vendors has no .icd files); "
                + "install one with 'apt-get install pocl-opencl-icd' for the CPU, or, where the NVIDIA driver is installed, "
                + "register it with 'echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd'", why);
    }

    @Test void registeredDriversThatDoNotLoad() {
        String why = findings(null, true, List.of("nvidia.icd", "pocl.icd"), List.of(), List.of()).problem();
        assertEquals("no OpenCL platform: /etc/OpenCL/vendors registers nvidia.icd, pocl.icd but none of the libraries they name "
                + "gave a platform: each is missing, or loads but is no OpenCL driver; check that each file names an installed "
                + "OpenCL driver library (libnvidia-opencl.so.1 comes with the NVIDIA driver, libpocl.so with pocl-opencl-icd)", why);
    }

    @Test void vendorsVariableThatIsNoFolder() {
        // ocl-icd reads no folder when OCL_ICD_VENDORS names none: /etc/OpenCL/vendors and its files are beside the point
        String why = new ClAvailability.Findings(null, true, VENDORS, List.of("pocl.icd"), List.of(), List.of(), "/nonexistent")
                .problem();
        assertEquals("no OpenCL platform: OCL_ICD_VENDORS=/nonexistent is not a folder, so the ICD loader takes it for the one "
                + "driver to load (an .icd file or a library) instead of reading /etc/OpenCL/vendors, and that gave no platform; "
                + "unset OCL_ICD_VENDORS, or point it at a folder of .icd files", why);
        assertNull(new ClAvailability.Findings(null, true, VENDORS, List.of(), List.of("Portable Computing Language"),
                List.of(device(0, "Portable Computing Language", "cpu-haswell", "cpu")), "/etc/OpenCL/vendors/pocl.icd").problem(),
                "a variable naming a driver that works is no problem");
    }

    @Test void aPlatformWithoutDevices() {
        String why = findings(null, true, List.of("nvidia.icd"), List.of("NVIDIA CUDA"), List.of()).problem();
        assertEquals("no OpenCL device: platform NVIDIA CUDA reports no devices; check that the GPU driver is loaded (nvidia-smi) "
                + "or list what OpenCL sees with 'clinfo'", why);
    }

    @Test void aDeviceMeansAvailable() {
        assertNull(findings(null, true, List.of("pocl.icd"), List.of("Portable Computing Language"),
                List.of(device(0, "Portable Computing Language", "cpu-haswell", "cpu"))).problem());
    }

    @Test void deviceSelection() {
        var cpu = device(0, "Portable Computing Language", "pthread-haswell", "cpu");
        var gpu = device(1, "NVIDIA CUDA", "NVIDIA H100 80GB HBM3", "gpu");
        var fpga = device(2, "Intel FPGA", "emulator", "accelerator");
        List<ClDevices.Found> all = List.of(cpu, gpu, fpga);
        assertSame(gpu, ClDevices.select(all, null), "the default prefers a GPU");
        assertSame(fpga, ClDevices.select(List.of(cpu, fpga), " "), "then an accelerator");
        assertSame(cpu, ClDevices.select(List.of(cpu), null), "then whatever there is");
        assertSame(fpga, ClDevices.select(all, "2"));
        assertSame(cpu, ClDevices.select(all, "CPU"));
        assertSame(gpu, ClDevices.select(all, "h100"));
        assertSame(gpu, ClDevices.select(all, "nvidia"), "platform names match too");

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClDevices.select(all, "radeon"));
        assertEquals("no OpenCL device matches 'radeon' (an index, gpu, cpu, accelerator or part of a name); devices:"
                + "\n  " + cpu.info().describe() + "\n  " + gpu.info().describe() + "\n  " + fpga.info().describe(), e.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClDevices.select(all, "3")).getMessage()
                .startsWith("OpenCL device index 3 is out of range; devices:"));
        assertSame(fpga, ClDevices.select(all, "002"), "leading zeros");
        for (String huge : List.of("99999999999", "2147483648", "000000000000000000003"))
            assertTrue(assertThrows(IllegalArgumentException.class, () -> ClDevices.select(all, huge)).getMessage()
                    .startsWith("OpenCL device index " + huge.replaceFirst("^0+", "") + " is out of range; devices:"), huge);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ClDevices.select(List.of(cpu), "gpu")).getMessage()
                .startsWith("no OpenCL device of type 'gpu'; devices:"));
    }

    @Test void aDeviceDescribesItself() {
        assertEquals("1: NVIDIA CUDA / NVIDIA H100 80GB HBM3 (gpu, 8 compute units, 4.0 GiB, OpenCL 3.0, fp64)",
                device(1, "NVIDIA CUDA", "NVIDIA H100 80GB HBM3", "gpu").info().describe());
    }
}
