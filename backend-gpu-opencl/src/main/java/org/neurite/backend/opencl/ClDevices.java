package org.neurite.backend.opencl;

import static org.jocl.CL.CL_DEVICE_DOUBLE_FP_CONFIG;
import static org.jocl.CL.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.jocl.CL.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_TYPE_ACCELERATOR;
import static org.jocl.CL.CL_DEVICE_TYPE_ALL;
import static org.jocl.CL.CL_DEVICE_TYPE_CPU;
import static org.jocl.CL.CL_DEVICE_TYPE_GPU;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_DEVICE_NOT_FOUND;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.clGetDeviceIDs;
import static org.jocl.CL.clGetDeviceInfo;
import static org.jocl.CL.clGetPlatformIDs;
import static org.jocl.CL.clGetPlatformInfo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Discovery and selection of OpenCL devices. {@link #list()} enumerates every platform's devices
 * in driver order (the listing {@code nn backends} prints and indices refer to);
 * {@link #select} picks one for {@code BackendOptions.device()}: null for the default (the first
 * GPU, else the first accelerator, else the first device), a number for that listing index, a
 * type ({@code gpu}, {@code cpu}, {@code accelerator}) for the first device of that type, or else
 * a case-insensitive substring of "platform / device name". JOCL's exceptions are switched on here
 * for the whole process, so every failing OpenCL call throws a {@link CLException} naming its
 * error code.
 */
final class ClDevices {
    /** A device with the handles needed to open it. */
    record Found(ClDeviceInfo info, cl_platform_id platform, cl_device_id device) {}

    private ClDevices() {}

    /** Every device of every platform; empty when a platform has none. Throws what OpenCL throws. */
    static List<Found> list() {
        CL.setExceptionsEnabled(true);
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<Found> found = new ArrayList<>();
        for (cl_platform_id platform : platforms) {
            String platformName = platformString(platform, CL_PLATFORM_NAME);
            int[] devices = new int[1];
            try {
                clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 0, null, devices);
            } catch (CLException e) {
                if (e.getStatus() == CL_DEVICE_NOT_FOUND) continue;
                throw e;
            }
            cl_device_id[] ids = new cl_device_id[devices[0]];
            clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids.length, ids, null);
            for (cl_device_id id : ids) {
                ClDeviceInfo info = new ClDeviceInfo(found.size(), platformName, deviceString(id, CL_DEVICE_NAME),
                        typeName(deviceLong(id, CL_DEVICE_TYPE)), deviceInt(id, CL_DEVICE_MAX_COMPUTE_UNITS),
                        deviceLong(id, CL_DEVICE_GLOBAL_MEM_SIZE), deviceString(id, CL_DEVICE_VERSION),
                        deviceLong(id, CL_DEVICE_DOUBLE_FP_CONFIG) != 0);
                found.add(new Found(info, platform, id));
            }
        }
        return found;
    }

    /** The name of every platform, in driver order. */
    static List<String> platformNames() {
        int[] count = new int[1];
        clGetPlatformIDs(0, null, count);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        clGetPlatformIDs(platforms.length, platforms, null);
        List<String> names = new ArrayList<>();
        for (cl_platform_id p : platforms) names.add(platformString(p, CL_PLATFORM_NAME));
        return names;
    }

    /**
     * The device {@code selector} names among {@code devices} (see the class comment).
     *
     * @throws IllegalArgumentException when nothing matches, listing the devices there are
     */
    static Found select(List<Found> devices, String selector) {
        if (devices.isEmpty()) throw new IllegalArgumentException("no OpenCL device to select from");
        if (selector == null || selector.isBlank()) {
            for (String type : List.of("gpu", "accelerator"))
                for (Found d : devices) if (d.info().type().equals(type)) return d;
            return devices.get(0);
        }
        String wanted = selector.trim().toLowerCase(Locale.ROOT);
        if (wanted.chars().allMatch(c -> c >= '0' && c <= '9')) {
            // An index too large for an int (a quoted "99999999999") is out of range too, not a NumberFormatException.
            String digits = wanted.replaceFirst("^0+(?=.)", "");
            if (digits.length() <= 9 && Integer.parseInt(digits) < devices.size()) return devices.get(Integer.parseInt(digits));
            throw new IllegalArgumentException("OpenCL device index " + digits + " is out of range; devices:" + listing(devices));
        }
        if (List.of("gpu", "cpu", "accelerator").contains(wanted)) {
            for (Found d : devices) if (d.info().type().equals(wanted)) return d;
            throw new IllegalArgumentException("no OpenCL device of type '" + wanted + "'; devices:" + listing(devices));
        }
        for (Found d : devices) {
            String name = (d.info().platform() + " / " + d.info().name()).toLowerCase(Locale.ROOT);
            if (name.contains(wanted)) return d;
        }
        throw new IllegalArgumentException("no OpenCL device matches '" + selector
                + "' (an index, gpu, cpu, accelerator or part of a name); devices:" + listing(devices));
    }

    private static String listing(List<Found> devices) {
        StringBuilder s = new StringBuilder();
        for (Found d : devices) s.append("\n  ").append(d.info().describe());
        return s.toString();
    }

    static String typeName(long type) {
        if ((type & CL_DEVICE_TYPE_GPU) != 0) return "gpu";
        if ((type & CL_DEVICE_TYPE_ACCELERATOR) != 0) return "accelerator";
        if ((type & CL_DEVICE_TYPE_CPU) != 0) return "cpu";
        return "other";
    }

    static String platformString(cl_platform_id platform, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(platform, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    static String deviceString(cl_device_id device, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(device, param, 0, null, size);
        byte[] bytes = new byte[(int) size[0]];
        clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null);
        return cString(bytes);
    }

    static long deviceLong(cl_device_id device, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(device, param, Sizeof.cl_ulong, Pointer.to(v), null);
        return v[0];
    }

    static int deviceInt(cl_device_id device, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(device, param, Sizeof.cl_uint, Pointer.to(v), null);
        return v[0];
    }

    /** A size_t device property (JOCL passes size_t as 64 bits on every supported platform). */
    static long deviceSize(cl_device_id device, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(device, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    /** A NUL-terminated C string, trimmed. */
    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) end++;
        return new String(bytes, 0, end, StandardCharsets.UTF_8).trim();
    }
}
