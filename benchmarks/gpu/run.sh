#!/usr/bin/env bash
# Runs Neurite's OpenCL parity suite and benchmarks on this machine, with no Java or Maven
# installed: everything comes from the bundle that benchmarks/gpu/prepare.sh made (copied here as
# neurite-gpu-bundle/, or run from a checkout after prepare.sh). Prints one table at the end.
#
#   ./run.sh                      # the first GPU (else the first OpenCL device)
#   ./run.sh --device 1           # or an index / type / name from the device list it prints
#   ./run.sh --skip-parity --sizes 1024,4096 --rounds 3
#
# Before starting Java it makes OpenCL reachable for JOCL:
#   - JOCL opens "libOpenCL.so" (the unversioned name, which only development packages install):
#     a link to this machine's libOpenCL.so.1, else to the bundled ocl-icd loader, is put in a
#     private folder on LD_LIBRARY_PATH;
#   - when the NVIDIA driver's libnvidia-opencl.so.1 is installed but no .icd file registers it,
#     it is registered: /etc/OpenCL/vendors/nvidia.icd when that folder is writable (root), else a
#     private vendors folder (existing .icd files copied) named by OCL_ICD_VENDORS.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ -x "$HERE/runtime/bin/java" ]; then BUNDLE="$HERE"
elif [ -x "$HERE/target/neurite-gpu-bundle/runtime/bin/java" ]; then BUNDLE="$HERE/target/neurite-gpu-bundle"
else echo "run.sh: no bundle next to this script; make one with benchmarks/gpu/prepare.sh" >&2; exit 1; fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/neurite-gpu.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lib" "$WORK/vendors"

# Where the dynamic linker finds a library: ldconfig's cache, then the usual folders.
find_library() {
  local name="$1" path
  path="$(ldconfig -p 2>/dev/null | awk -v n="$name" '$1 == n && /x86-64|x86_64/ {print $NF; exit}')"
  if [ -z "$path" ]; then
    for dir in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib /lib/x86_64-linux-gnu /usr/local/cuda/lib64; do
      [ -e "$dir/$name" ] && { path="$dir/$name"; break; }
    done
  fi
  printf '%s' "$path"
}

LOADER="$(find_library libOpenCL.so.1)"
if [ -z "$LOADER" ] && [ -e "$BUNDLE/native/libOpenCL.so.1" ]; then
  LOADER="$BUNDLE/native/libOpenCL.so.1"
  echo "run.sh: no OpenCL loader installed; using the bundled ocl-icd loader" >&2
fi
[ -n "$LOADER" ] || { echo "run.sh: no libOpenCL.so.1 on this machine and none bundled" >&2; exit 1; }
ln -s "$LOADER" "$WORK/lib/libOpenCL.so"
export LD_LIBRARY_PATH="$WORK/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

VENDORS="${OCL_ICD_VENDORS:-/etc/OpenCL/vendors}"
if [ -n "$(find_library libnvidia-opencl.so.1)" ] && ! grep -qs libnvidia-opencl "$VENDORS"/*.icd; then
  if mkdir -p /etc/OpenCL/vendors 2>/dev/null && [ -w /etc/OpenCL/vendors ] && [ -z "${OCL_ICD_VENDORS:-}" ]; then
    echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
    echo "run.sh: registered NVIDIA's OpenCL driver in /etc/OpenCL/vendors/nvidia.icd" >&2
  else
    cp "$VENDORS"/*.icd "$WORK/vendors/" 2>/dev/null || true
    echo libnvidia-opencl.so.1 > "$WORK/vendors/nvidia.icd"
    export OCL_ICD_VENDORS="$WORK/vendors"
    echo "run.sh: registered NVIDIA's OpenCL driver in a private vendors folder ($OCL_ICD_VENDORS)" >&2
  fi
fi

# Signal chaining: the OpenCL driver installs its own SIGSEGV handler when loaded, and the JVM's own
# SIGSEGVs (implicit null checks, safepoint polls) would then end the process with no hs_err file: the
# crash seen on the H200 after an OpenCL backend. The runtime's libjsig keeps the JVM's handlers first.
# NEURITE_NO_JSIG=1 leaves it out: device-check.sh does so once, under -Xcheck:jni, to see whether the driver replaces them.
if [ -f "$BUNDLE/runtime/lib/libjsig.so" ] && [ -z "${NEURITE_NO_JSIG:-}" ]; then
  export LD_PRELOAD="$BUNDLE/runtime/lib/libjsig.so${LD_PRELOAD:+:$LD_PRELOAD}"
fi

# The heap on transparent huge pages where the kernel gives them on request, as ./nn starts it (the CPU
# backend's rows of the suite are then what ./nn gets; ./nn explains why).
HUGE_PAGES=""
if grep -Eqs '\[(madvise|always)\]' /sys/kernel/mm/transparent_hugepage/enabled; then HUGE_PAGES=-XX:+UseTransparentHugePages; fi

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
exec "$BUNDLE/runtime/bin/java" --add-modules jdk.incubator.vector -Xss8m -XX:InlineSmallCode=10000 $HUGE_PAGES ${NEURITE_JAVA_OPTS:-} \
  -Dneurite.fixtures="$BUNDLE/fixtures" -cp "$BUNDLE/lib/*" \
  org.neurite.benchmarks.gpu.GpuSuite --examples "$BUNDLE/examples" "$@"
