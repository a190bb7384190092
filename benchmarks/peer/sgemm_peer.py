#!/usr/bin/env python3
"""SGEMM side by side: OpenBLAS (through numpy and torch) and Neurite's CPU backend, in one run.

For each size n, times C = A @ B on n x n float32 matrices: numpy (Debian's numpy links
libblas.so.3, which is OpenBLAS when libopenblas0-pthread is installed), torch.mm, and the Java
main org.neurite.benchmarks.GemmThroughput. Every figure is the median GFLOP/s (2 n^3 flops per
call) of several rounds after warm-up; the ratio is Neurite over the faster of numpy and torch.

Usage (from the repository root, after building backend-cpu and `mvn -q -o package -pl benchmarks`):
    /usr/bin/python3 benchmarks/peer/sgemm_peer.py [--threads 2] [--rounds 7] [256 512 1024 2048]

Threads: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS and torch.set_num_threads get N, and so does
Neurite's backend. The environment variables are set before numpy loads, so this script sets
them itself and re-executes when they differ.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[256, 512, 1024, 2048])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--min-ms", type=int, default=200, help="shortest round; small sizes repeat the call")
    return parser.parse_args()


def median_gflops(multiply, n, rounds, min_ms):
    """Median GFLOP/s over `rounds` rounds of `calls` multiplications each (two warm-up rounds first)."""
    flops = 2.0 * n ** 3
    start = time.perf_counter()
    multiply()
    calls = max(1, min(100_000, int(min_ms / 1000 / max(1e-9, time.perf_counter() - start))))
    results = []
    for r in range(rounds + 2):
        start = time.perf_counter()
        for _ in range(calls):
            multiply()
        seconds = time.perf_counter() - start
        if r >= 2:
            results.append(flops * calls / seconds / 1e9)
    return statistics.median(results)


def blas_gflops(n, rounds, min_ms):
    import numpy as np
    import torch
    rng = np.random.default_rng(n)
    a = (rng.random((n, n), dtype=np.float32) - 0.5)
    b = (rng.random((n, n), dtype=np.float32) - 0.5)
    c = np.empty((n, n), dtype=np.float32)
    numpy_rate = median_gflops(lambda: np.matmul(a, b, out=c), n, rounds, min_ms)
    ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty(n, n)
    torch_rate = median_gflops(lambda: torch.mm(ta, tb, out=tc), n, rounds, min_ms)
    return numpy_rate, torch_rate


def neurite_gflops(sizes, threads, rounds, min_ms):
    classpath = os.path.join(ROOT, "benchmarks/target/benchmarks-0.1.0-SNAPSHOT.jar") + os.pathsep + \
        os.path.join(ROOT, "benchmarks/target/lib/*")
    out = subprocess.run(
        ["java", "--add-modules", "jdk.incubator.vector", "-cp", classpath, "org.neurite.benchmarks.GemmThroughput",
         "--threads", str(threads), "--rounds", str(rounds), "--min-ms", str(min_ms)] + [str(n) for n in sizes],
        check=True, capture_output=True, text=True).stdout
    rates = {}
    for line in out.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            rates[row["n"]] = row["gflops"]
    return rates


def main():
    args = parse_args()
    threads = str(args.threads)
    if os.environ.get("OPENBLAS_NUM_THREADS") != threads or os.environ.get("OMP_NUM_THREADS") != threads:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    print(f"numpy {np.__version__}, torch {torch.__version__}, {args.threads} threads, "
          f"median GFLOP/s of {args.rounds} rounds (each >= {args.min_ms} ms)")
    blas = {n: blas_gflops(n, args.rounds, args.min_ms) for n in args.sizes}
    neurite = neurite_gflops(args.sizes, args.threads, args.rounds, args.min_ms)
    print(f"{'n':>6} {'numpy':>8} {'torch':>8} {'neurite':>8} {'ratio':>7}")
    for n in args.sizes:
        numpy_rate, torch_rate = blas[n]
        ours = neurite[n]
        print(f"{n:>6} {numpy_rate:>8.1f} {torch_rate:>8.1f} {ours:>8.1f} {ours / max(numpy_rate, torch_rate):>6.2f}x",
              flush=True)


if __name__ == "__main__":
    main()
