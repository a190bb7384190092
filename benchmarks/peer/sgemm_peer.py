#!/usr/bin/env python3
"""SGEMM side by side: OpenBLAS (through numpy and torch) and Neurite's CPU backend, in one run.

For each size n, times C = A @ B on n x n float32 matrices with numpy (Debian's numpy links
libblas.so.3, which is OpenBLAS when libopenblas0-pthread is installed), torch.mm, and Neurite
(org.neurite.benchmarks.GemmThroughput, kept running in --serve mode). The three take turns
round by round, so on a shared machine each round of each sees about the same load. Printed:
the median GFLOP/s (2 n^3 flops per call) of each over the rounds, and the median over rounds
of Neurite's rate divided by the faster BLAS rate of the same round.

Usage (from the repository root, after building backend-cpu and `mvn -q -o package -pl benchmarks`):
    /usr/bin/python3 benchmarks/peer/sgemm_peer.py [--threads 2] [--rounds 7] [256 512 1024 2048]

Threads: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS and torch.set_num_threads get N, and so does
Neurite's backend. The environment variables must be set before numpy loads, so the script sets
them and re-executes itself when they differ.
"""
import argparse
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


class Neurite:
    """The Java side: one long-lived GemmThroughput --serve process, asked for one round at a time."""

    def __init__(self, threads):
        classpath = os.path.join(ROOT, "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar") + os.pathsep + \
            os.path.join(ROOT, "benchmarks/target/lib/*")
        self.process = subprocess.Popen(
            ["java", "--add-modules", "jdk.incubator.vector", "-cp", classpath, "org.neurite.benchmarks.GemmThroughput",
             "--threads", str(threads), "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if self.process.stdout.readline().strip() != "ready":
            sys.exit("GemmThroughput --serve did not start")

    def seconds(self, n, calls):
        self.process.stdin.write(f"{n} {calls}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def calls_for(seconds_of_one, min_ms):
    return max(1, min(100_000, int(min_ms / 1000 / max(1e-9, seconds_of_one))))


def timed(multiply, calls):
    start = time.perf_counter()
    for _ in range(calls):
        multiply()
    return time.perf_counter() - start


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
          f"median of {args.rounds} interleaved rounds (each >= {args.min_ms} ms)")
    print(f"{'n':>6} {'numpy GF/s':>11} {'torch GF/s':>11} {'neurite GF/s':>13} {'neurite/BLAS':>13}")
    neurite = Neurite(args.threads)
    try:
        for n in args.sizes:
            rng = np.random.default_rng(n)
            a = rng.random((n, n), dtype=np.float32) - 0.5
            b = rng.random((n, n), dtype=np.float32) - 0.5
            c = np.empty((n, n), dtype=np.float32)
            ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty(n, n)
            contenders = {
                "numpy": lambda calls: timed(lambda: np.matmul(a, b, out=c), calls),
                "torch": lambda calls: timed(lambda: torch.mm(ta, tb, out=tc), calls),
                "neurite": lambda calls: neurite.seconds(n, calls),
            }
            calls = {name: calls_for(run(1), args.min_ms) for name, run in contenders.items()}
            for name, run in contenders.items():  # warm-up: JIT, thread pools, caches
                run(calls[name])
                run(calls[name])
            flops = 2.0 * n ** 3
            rates = {name: [] for name in contenders}
            ratios = []
            for _ in range(args.rounds):
                this_round = {name: flops * calls[name] / run(calls[name]) / 1e9 for name, run in contenders.items()}
                for name, rate in this_round.items():
                    rates[name].append(rate)
                ratios.append(this_round["neurite"] / max(this_round["numpy"], this_round["torch"]))
            median = {name: statistics.median(r) for name, r in rates.items()}
            print(f"{n:>6} {median['numpy']:>11.1f} {median['torch']:>11.1f} {median['neurite']:>13.1f} "
                  f"{statistics.median(ratios):>12.2f}x", flush=True)
    finally:
        neurite.close()


if __name__ == "__main__":
    main()
