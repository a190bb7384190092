#!/usr/bin/env python3
"""Neurite before and after a change: two built checkouts measured alternately, A B A B ...

Each call is peer.py's own `neurite_throughput` imported from that checkout (its scripts, its
jars in benchmarks/target), so both sides run the same harness: batch 64, inference 256, 2
threads, 3 rounds of 50 steps per call. Alternating in one session lets both see the same load;
the median over pairs of after/before is the figure to quote.

Usage (each checkout built with `mvn -o -q package -DskipTests -pl benchmarks -am`):
    /usr/bin/python3 benchmarks/peer/alternate_builds.py BEFORE_DIR AFTER_DIR PAIRS [workload ...]
"""
import importlib.util
import statistics
import sys


def load(root, tag):
    spec = importlib.util.spec_from_file_location("peer_" + tag, root + "/benchmarks/peer/peer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    before, after, pairs = load(sys.argv[1], "before"), load(sys.argv[2], "after"), int(sys.argv[3])
    for name in sys.argv[4:] or ["lenet5", "fashion_cnn", "rowlstm"]:
        rows = []
        for p in range(pairs):
            a = before.neurite_throughput(name, 64, 50, 3, 2, 256)
            b = after.neurite_throughput(name, 64, 50, 3, 2, 256)
            rows.append((a, b))
            print(f"  {name} pair {p}: train {a[0]:.0f} -> {b[0]:.0f}, infer {a[1]:.0f} -> {b[1]:.0f}", flush=True)
        for i, what in ((0, "train"), (1, "infer")):
            old = statistics.median(a[i] for a, _ in rows)
            new = statistics.median(b[i] for _, b in rows)
            ratio = statistics.median(b[i] / a[i] for a, b in rows)
            print(f"{name} {what}: median {old:.0f} -> {new:.0f}, median ratio {ratio:.3f}", flush=True)


if __name__ == "__main__":
    main()
