#!/usr/bin/env bash
# Builds the bundle that benchmarks/gpu/run.sh runs on a GPU machine that has no Java and no Maven:
#
#   benchmarks/gpu/target/neurite-gpu-bundle/          (and neurite-gpu-bundle.tar.gz next to it)
#     runtime/     a Java runtime made with jlink: only the modules the jars use, plus jdk.incubator.vector
#     lib/         the nn command's jars (DSL, engine, layer plugins, CPU and OpenCL backends, JOCL),
#                  backend-gpu-opencl's test classes and JUnit's launcher (the parity suite), GpuSuite
#     fixtures/    the test kit's PyTorch fixtures, which the parity suite reads
#     examples/    the example scripts the workload benchmarks train
#     native/      libOpenCL.so.1, the ocl-icd loader, for machines whose driver came without one
#     run.sh       the entry point (see it for what it does)
#     device-check.sh, torch_twin.py, peer/peer.py
#                  everything a lent GPU machine runs in one go, and PyTorch's side of the figures
#
# Run here, from any folder, after the modules are built and installed:
#   mvn -q -o install -DskipTests && benchmarks/gpu/prepare.sh
# Needs a JDK 17 (javac, jar, jlink) and Maven (offline is enough once dependencies are local).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GPU="$ROOT/benchmarks/gpu"
OUT="$GPU/target/neurite-gpu-bundle"
JUNIT_PLATFORM=1.14.1

for tool in javac jar jlink mvn; do
  command -v "$tool" >/dev/null || { echo "prepare.sh: $tool is needed (a JDK 17 and Maven)" >&2; exit 1; }
done
[ -d "$ROOT/cli/target/lib" ] && [ -d "$ROOT/backend-gpu-opencl/target/test-classes" ] || {
  echo "prepare.sh: build first: (cd $ROOT && mvn -q -o install -DskipTests && mvn -q -o test-compile -pl backend-gpu-opencl)" >&2; exit 1; }

rm -rf "$OUT" "$GPU/target/neurite-gpu-bundle.tar.gz"
mkdir -p "$OUT/lib" "$OUT/fixtures" "$OUT/examples" "$OUT/native" "$GPU/target/classes"

echo "prepare.sh: collecting jars" >&2
cp "$ROOT"/cli/target/lib/*.jar "$OUT/lib/"
for jar in "$ROOT"/cli/target/neurite-cli-*.jar; do
  case "$jar" in *-sources.jar|*-javadoc.jar) ;; *) cp "$jar" "$OUT/lib/" ;; esac
done
rm -f "$OUT"/lib/neurite-examples-*.jar # the bundled dataset: the benchmarks train on random data
# The backend under test as last built by its own module (cli/target/lib holds the copy made when cli was packaged).
for jar in "$ROOT"/backend-gpu-opencl/target/neurite-backend-gpu-opencl-*.jar; do
  case "$jar" in *-tests.jar|*-sources.jar|*-javadoc.jar) ;; *) cp "$jar" "$OUT/lib/" ;; esac
done
# The parity suite's class path beyond the nn command's: its test classes and their test-scope dependencies.
(cd "$ROOT" && mvn -q -o dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$GPU/target/test-classpath.txt" -pl backend-gpu-opencl)
tr ":" "\n" < "$GPU/target/test-classpath.txt" | while read -r jar || [ -n "$jar" ]; do
  [ -f "$jar" ] && [ ! -e "$OUT/lib/$(basename "$jar")" ] && cp "$jar" "$OUT/lib/"
done
(cd "$ROOT" && mvn -q -o dependency:copy -Dartifact=org.junit.platform:junit-platform-launcher:$JUNIT_PLATFORM -DoutputDirectory="$OUT/lib")
jar cf "$OUT/lib/backend-gpu-opencl-tests.jar" -C "$ROOT/backend-gpu-opencl/target/test-classes" .

echo "prepare.sh: compiling GpuSuite" >&2
javac -d "$GPU/target/classes" -cp "$OUT/lib/*" "$GPU"/src/org/neurite/benchmarks/gpu/*.java
jar cf "$OUT/lib/neurite-gpu-suite.jar" -C "$GPU/target/classes" .

cp "$ROOT"/testkit/src/main/resources/fixtures/*.safetensors "$OUT/fixtures/"
cp "$ROOT"/examples/*.nn "$OUT/examples/"
cp "$GPU/run.sh" "$GPU/device-check.sh" "$GPU/torch_twin.py" "$OUT/"
mkdir -p "$OUT/peer" && cp "$ROOT/benchmarks/peer/peer.py" "$OUT/peer/" # the twin's models
for loader in /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 /usr/lib64/libOpenCL.so.1 /usr/lib/libOpenCL.so.1; do
  if [ -e "$loader" ]; then cp -L "$loader" "$OUT/native/libOpenCL.so.1"; break; fi
done

echo "prepare.sh: making the Java runtime with jlink" >&2
# What the code paths run here use (jdeps also lists modules that optional code of Jackson, Guava and
# JUnit would touch, such as java.desktop and java.sql, which would double the runtime's size):
# java.logging (JOCL), jdk.unsupported (sun.misc.Unsafe for Guice and Guava), jdk.zipfs (JUnit finds the
# test classes inside jars through it), the Vector API.
MODULES="java.base,java.logging,jdk.unsupported,jdk.zipfs,jdk.incubator.vector"
jlink --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=2 --output "$OUT/runtime"

tar -C "$GPU/target" -czf "$GPU/target/neurite-gpu-bundle.tar.gz" neurite-gpu-bundle
echo "prepare.sh: $(du -sh "$OUT" | cut -f1) in $OUT; $(du -h "$GPU/target/neurite-gpu-bundle.tar.gz" | cut -f1) as neurite-gpu-bundle.tar.gz" >&2
