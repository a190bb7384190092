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
    python3 benchmarks/peer/sgemm_peer.py --threads 1 --cpu-time [--rounds 7]   # on a loaded machine

The BLAS is whatever the interpreter's numpy loaded, and the script prints the library file it
found mapped into the process: Debian's /usr/bin/python3 numpy calls libblas.so.3, which is the
*reference* BLAS (tens of GFLOP/s, not OpenBLAS) unless libopenblas0-pthread is installed; a pip
numpy (e.g. pyenv's python3) carries its own OpenBLAS. torch is optional: without it only numpy
is timed.

Settling: after a call, OpenBLAS's worker threads spin for about 0.1 s of CPU time before they
sleep (its THREAD_TIMEOUT), and torch's OpenMP threads spin too; on a 2-core machine that takes a
core from whichever contender runs next. So each contender's round starts after --settle-ms
(150) of quiet; within a round every side keeps its own threads warm.

Threads: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS and torch.set_num_threads get N, and so does
Neurite's backend. The environment variables must be set before numpy loads, so the script sets
them and re-executes itself when they differ.

Huge pages: as in peer.py (huge_pages.py), Neurite's JVM gets -XX:+UseTransparentHugePages and
numpy's matrices glibc.malloc.hugetlb=1 where the kernel gives huge pages on request.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import huge_pages  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[256, 512, 1024, 2048])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--min-ms", type=int, default=200, help="shortest round; small sizes repeat the call")
    parser.add_argument("--settle-ms", type=int, default=150,
                        help="pause before each contender's round: OpenBLAS's idle threads keep spinning for "
                             "about 0.1 s after a call, and would otherwise run into the next contender's round")
    parser.add_argument("--cpu-time", action="store_true",
                        help="with --threads 1: time by each side's thread CPU time, not the wall clock "
                             "(a loaded machine disturbs it far less)")
    return parser.parse_args()


class Neurite:
    """The Java side: one long-lived GemmThroughput --serve process, asked for one round at a time."""

    def __init__(self, threads, cpu_time=False):
        classpath = os.path.join(ROOT, "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar") + os.pathsep + \
            os.path.join(ROOT, "benchmarks/target/lib/*")
        self.process = subprocess.Popen(
            ["java", "--add-modules", "jdk.incubator.vector", "-XX:InlineSmallCode=10000"] + huge_pages.java_options()
            + ["-cp", classpath, "org.neurite.benchmarks.GemmThroughput", "--threads", str(threads), "--serve"]
            + (["--cpu-time"] if cpu_time else []),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=huge_pages.java_environment())
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


CLOCK = time.perf_counter


def timed(multiply, calls):
    start = CLOCK()
    for _ in range(calls):
        multiply()
    return CLOCK() - start


def blas_libraries():
    """The BLAS shared libraries mapped into this process (after numpy has run a product)."""
    found = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                name = os.path.basename(line.split()[-1]) if "/" in line else ""
                if "blas" in name.lower() or name.startswith("libmkl"):
                    found.add(line.split()[-1])
    except OSError:
        return "unknown (no /proc/self/maps)"
    return ", ".join(sorted(found)) or "none found"


def main():
    global CLOCK
    args = parse_args()
    if args.cpu_time:
        if args.threads != 1:
            sys.exit("--cpu-time needs --threads 1 (each side's work then runs on the calling thread)")
        CLOCK = time.thread_time
    threads = str(args.threads)
    env = huge_pages.peer_environment(dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads))
    if env != dict(os.environ):
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    import numpy as np
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    np.ones((64, 64), dtype=np.float32) @ np.ones((64, 64), dtype=np.float32)
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, {args.threads} threads, "
          f"median of {args.rounds} interleaved rounds (each >= {args.min_ms} ms"
          f"{' of thread CPU time' if args.cpu_time else ''})")
    print(f"BLAS loaded: {blas_libraries()}")
    print(huge_pages.describe("the BLAS's"))
    print(f"{'n':>6} {'numpy GF/s':>11} {'torch GF/s':>11} {'neurite GF/s':>13} {'neurite/BLAS':>13}")
    neurite = Neurite(args.threads, args.cpu_time)
    try:
        for n in args.sizes:
            rng = np.random.default_rng(n)
            a = rng.random((n, n), dtype=np.float32) - 0.5
            b = rng.random((n, n), dtype=np.float32) - 0.5
            c = np.empty((n, n), dtype=np.float32)
            contenders = {"numpy": lambda calls: timed(lambda: np.matmul(a, b, out=c), calls)}
            if torch:
                ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty(n, n)
                contenders["torch"] = lambda calls: timed(lambda: torch.mm(ta, tb, out=tc), calls)
            contenders["neurite"] = lambda calls: neurite.seconds(n, calls)
            calls = {name: calls_for(run(1), args.min_ms) for name, run in contenders.items()}
            for name, run in contenders.items():  # warm-up: JIT, thread pools, caches
                run(calls[name])
                run(calls[name])
            flops = 2.0 * n ** 3
            rates = {name: [] for name in contenders}
            ratios = []
            for _ in range(args.rounds):
                this_round = {}
                for name, run in contenders.items():
                    time.sleep(args.settle_ms / 1000)
                    this_round[name] = flops * calls[name] / run(calls[name]) / 1e9
                for name, rate in this_round.items():
                    rates[name].append(rate)
                ratios.append(this_round["neurite"] / max(rate for name, rate in this_round.items() if name != "neurite"))
            median = {name: statistics.median(r) for name, r in rates.items()}
            torch_rate = f"{median['torch']:>11.1f}" if torch else f"{'-':>11}"
            print(f"{n:>6} {median['numpy']:>11.1f} {torch_rate} {median['neurite']:>13.1f} "
                  f"{statistics.median(ratios):>12.2f}x", flush=True)
    finally:
        neurite.close()


if __name__ == "__main__":
    main()
