#!/usr/bin/env bash
# Everything a lent GPU machine is asked for, in one run of about 6 to 9 minutes on an H200, with
# every result written under $OUT (default ./device-check-out):
#
#   1. registers NVIDIA's OpenCL driver (/usr/local/nvidia/lib64/libnvidia-opencl.so.1) with the ICD
#      loader in /etc/OpenCL/vendors (else a private vendors folder through OCL_ICD_VENDORS);
#   2. signal handlers: a short OpenCL run under -Xcheck:jni without libjsig (does the driver replace
#      the JVM's SIGSEGV handler? the cause of the H200 crash) and one with it (it must not);
#   3. the parity suite (backend-gpu-opencl's tests on the device);
#   4. SGEMM at 256 ... 4096 and the three workloads at batches 64, 256, 1024 (training and inference,
#      along nn train's path, with syncs and launches per step), written to $OUT/neurite.json, and the
#      convolution paths and SGEMM kernels the tuning chose (also copied: $OUT/*.conv, $OUT/*.gemm;
#      NEURITE_JAVA_OPTS=-Dneurite.opencl.conv=implicit or =im2col forces a path instead);
#   5. PyTorch with CUDA on the same card (torch_twin.py): the same table, and the ratios;
#   6. the crash reproducer of issue 17 in a loop (OpenCL SGEMM and training, then CPU work, in one
#      process), counting exit codes, for as many rounds (at most 8) as the time budget (510 s) leaves.
#
#   benchmarks/gpu/device-check.sh [--quick] [--skip-parity] [--out DIR]
#
# --quick: tiny sizes and batches, two crash rounds, PyTorch on the CPU when it has no CUDA: checks the
# script end to end on a machine without a GPU (PoCL), in a few minutes. Runs from a checkout after
# benchmarks/gpu/prepare.sh, or from the bundle (it sits next to run.sh there). Each step has a time
# limit; a failing step is recorded in $OUT/summary.txt and the next one runs. Exit status: 0 when every
# step passed, 1 otherwise.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
QUICK=0 PARITY=1
OUT="${OUT:-$PWD/device-check-out}"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --skip-parity) PARITY=0 ;;
    --out) OUT="$2"; shift ;;
    *) echo "device-check.sh: unknown option $1 (known: --quick, --skip-parity, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
START=$(date +%s)
FAILED=0

if [ "$QUICK" = 1 ]; then
  SIZES=64,128 CPU_SIZES=64 BATCHES=8,16 STEPS=2 ROUNDS=1 INFER=2 LOOPS=2 LOOP_SIZE=128 TWIN_DEVICE=auto BUDGET=600
else
  SIZES=256,512,1024,2048,4096 CPU_SIZES=256 BATCHES=64,256,1024 STEPS=20 ROUNDS=3 INFER=8 LOOPS=8 LOOP_SIZE=1024 TWIN_DEVICE=cuda BUDGET=510
fi
WORKLOADS=lenet5,fashion_cnn,rowlstm

note() { echo "$*" | tee -a "$SUMMARY"; }
elapsed() { echo $(( $(date +%s) - START )); }

# step NAME LIMIT_SECONDS COMMAND...: runs it with its output in $OUT/NAME.log, records the exit status.
step() {
  local name="$1" limit="$2"; shift 2
  local t0=$(date +%s) rc
  echo "== $name (limit ${limit} s, at $(elapsed) s)" >&2
  timeout -k 10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  note "$name: exit $rc in $(( $(date +%s) - t0 )) s$([ $rc = 124 ] && echo ' (time limit)')"
  [ $rc = 0 ] || [ "${PROBE:-0}" = 1 ] || FAILED=1
  return $rc
}

note "device-check.sh $([ $QUICK = 1 ] && echo --quick) on $(hostname), $(date -u +%FT%TZ), nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
command -v nvidia-smi >/dev/null && nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1

# 1. NVIDIA's OpenCL driver, registered with the ICD loader (run.sh then finds it registered).
NV=/usr/local/nvidia/lib64/libnvidia-opencl.so.1
if [ -e "$NV" ]; then
  export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" # its libcuda.so.1
  if mkdir -p /etc/OpenCL/vendors 2>/dev/null && [ -w /etc/OpenCL/vendors ]; then
    echo "$NV" > /etc/OpenCL/vendors/nvidia.icd
    note "registered $NV in /etc/OpenCL/vendors/nvidia.icd"
  else
    mkdir -p "$OUT/vendors" && cp /etc/OpenCL/vendors/*.icd "$OUT/vendors/" 2>/dev/null
    echo "$NV" > "$OUT/vendors/nvidia.icd"
    export OCL_ICD_VENDORS="$OUT/vendors"
    note "registered $NV in $OCL_ICD_VENDORS (OCL_ICD_VENDORS)"
  fi
else
  note "no $NV: OpenCL runs on whatever driver is registered (PoCL without a GPU)"
fi

# A fresh program and tuning cache: the first backend compiles and tunes, the later ones load both.
export NEURITE_CACHE="$(mktemp -d "${TMPDIR:-/tmp}/neurite-cache.XXXXXX")"
trap 'cp "$NEURITE_CACHE"/opencl/*.gemm "$NEURITE_CACHE"/opencl/*.conv "$OUT/" 2>/dev/null; rm -rf "$NEURITE_CACHE"' EXIT
# The bundle: next to this script, or made by prepare.sh in target/ (as a folder, or only its .tar.gz,
# which is what travels to a lent machine: the folder is over its 64 MiB limit on copied build outputs).
RUN="$HERE/run.sh"
if [ ! -x "$HERE/runtime/bin/java" ] && [ ! -x "$HERE/target/neurite-gpu-bundle/runtime/bin/java" ]; then
  if [ -f "$HERE/target/neurite-gpu-bundle.tar.gz" ]; then
    tar -C "$HERE/target" -xzf "$HERE/target/neurite-gpu-bundle.tar.gz" && note "unpacked target/neurite-gpu-bundle.tar.gz"
  else
    note "no bundle: run benchmarks/gpu/prepare.sh first"; exit 1
  fi
fi

# 2. Signal handlers. Without libjsig the JVM's periodic check names each handler a driver replaced.
# The first backend of the run (in step 3 or 4) compiles the program and runs the SGEMM tuning search.
# The processes only load the driver and list the devices: under -Xcheck:jni JOCL reads no device data.
SHORT=(--list-devices)
# A probe: a crash here (exit 139) confirms the cause rather than failing the check.
PROBE=1 NEURITE_NO_JSIG=1 NEURITE_JAVA_OPTS=-Xcheck:jni step jni-without-jsig 60 "$RUN" "${SHORT[@]}"
note "  handlers replaced without libjsig: $(grep -c 'handler modified' "$OUT/jni-without-jsig.log")" \
     "$(grep -o 'SIG[A-Z0-9]* handler modified' "$OUT/jni-without-jsig.log" | sort -u | tr '\n' ' ')"
NEURITE_JAVA_OPTS=-Xcheck:jni step jni-with-jsig 60 "$RUN" "${SHORT[@]}"
REPLACED=$(grep -c 'handler modified' "$OUT/jni-with-jsig.log")
note "  handlers replaced with libjsig: $REPLACED (must be 0)"
[ "$REPLACED" = 0 ] || FAILED=1

# 3. The parity suite on the device.
if [ "$PARITY" = 1 ]; then
  step parity 180 "$RUN" --sizes "" --cpu-sizes "" --workloads ""
  note "  $(grep -E '^parity tests' "$OUT/parity.log" || echo 'parity: no summary line')"
fi

# 4. SGEMM and the workloads at each batch on the device.
step neurite 200 "$RUN" --skip-parity --sizes "$SIZES" --cpu-sizes "" --workloads "$WORKLOADS" --workload-backends opencl \
     --batch "$BATCHES" --steps "$STEPS" --rounds "$ROUNDS" --infer-batches "$INFER" --json "$OUT/neurite.json"
sed -n '/^== summary/,$p' "$OUT/neurite.log" >> "$SUMMARY"
# What the tuning searches chose on this device (the backend's description ends "conv: ...; sgemm: ..."):
# each convolution direction as implicit GEMM or im2col + GEMM, and the SGEMM kernels.
note "  tuned convolution paths: $(grep -m1 -o 'conv: [^;]*' "$OUT/neurite.log" || echo 'not printed')"
note "  tuned SGEMM kernels: $(grep -m1 -o 'sgemm: .*' "$OUT/neurite.log" || echo 'not printed')"

# 5. PyTorch on the same card, and the ratios.
PY="${PYTHON:-python3}"
"$PY" -c 'import torch' 2>/dev/null || PY=/usr/bin/python3
step torch-twin 120 "$PY" "$HERE/torch_twin.py" --device "$TWIN_DEVICE" --batch "$BATCHES" --steps "$STEPS" --rounds "$ROUNDS" \
     --infer-batches "$INFER" --sizes "$SIZES" --workloads "$WORKLOADS" --json "$OUT/torch.json" \
     $([ -f "$OUT/neurite.json" ] && echo --neurite "$OUT/neurite.json")
sed -n '/^== Neurite/,$p' "$OUT/torch-twin.log" >> "$SUMMARY"

# 6. Issue 17's crash reproducer, last and as many rounds as the time budget leaves: OpenCL SGEMM and
# fashion_cnn on OpenCL, then CPU SGEMM and training, in one process. (Every step above is a process
# that used OpenCL too: its exit status is in the summary.)
CODES=()
for i in $(seq 1 "$LOOPS"); do
  [ "$(elapsed)" -lt $(( BUDGET - 60 )) ] || { note "  crash loop stopped after $(( i - 1 )) rounds: time budget of $BUDGET s"; break; }
  step "crash-loop-$i" 60 "$RUN" --skip-parity --sizes "$LOOP_SIZE" --cpu-sizes "$CPU_SIZES" --workloads fashion_cnn \
       --batch "${BATCHES%%,*}" --steps "$STEPS" --rounds 1 --infer-batches 1
  CODES+=($?)
done
note "  crash loop exit codes: ${CODES[*]} ($(printf '%s\n' "${CODES[@]}" | grep -c '^139$') of ${#CODES[@]} SIGSEGV)"

note "total $(elapsed) s; $([ $FAILED = 0 ] && echo 'every step passed' || echo 'some step failed: see the logs')"
cat "$SUMMARY" >&2
exit "$FAILED"
