package org.neurite.it.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.neurite.backend.opencl.ClBackendProvider;
import org.neurite.backend.opencl.ClDeviceInfo;
import org.neurite.cli.ExitCodes;
import org.neurite.cli.NnCommand;
import picocli.CommandLine;

/**
 * {@code nn backends} on a machine with OpenCL: each backend's availability, then every OpenCL
 * device under the {@code opencl} line with the index a deployment's {@code device:} may use
 * (name, type, compute units, memory, OpenCL version). Without OpenCL the line gives the reason
 * instead (see {@link OpenClFallbackTest} for the wording on a machine without a driver).
 */
class BackendsListingTest {
    @Test void listsEveryOpenClDeviceUnderTheBackend() {
        OpenClRuns.opencl().close(); // fails with the reason when OpenCL is missing
        CommandLine cli = NnCommand.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        assertEquals(ExitCodes.OK, cli.execute("backends"), err.toString());

        List<ClDeviceInfo> devices = ((ClBackendProvider) OpenClRuns.RUNTIME.backends().get("opencl")).devices();
        assertFalse(devices.isEmpty());
        List<String> lines = out.toString().lines().toList();
        int at = lines.indexOf("opencl: available");
        assertTrue(at >= 0 && lines.contains("cpu: available"), out.toString());
        List<String> expected = new ArrayList<>();
        for (ClDeviceInfo d : devices) expected.add("    " + d.describe());
        assertEquals(expected, lines.subList(at + 1, Math.min(lines.size(), at + 1 + devices.size())));
        assertEquals("0: ", devices.get(0).describe().substring(0, 3));
    }
}
