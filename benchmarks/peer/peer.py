#!/usr/bin/env python3
"""Side-by-side throughput: the same workloads in PyTorch and in Neurite, in one run.

Each workload is a Neurite example script and its PyTorch twin (same layers, same batch, same
optimiser, random data). Each side warms up while the other is idle (training: Neurite at least
10 s and until its JIT is quiet, PyTorch as long; inference 3 s), then their timed rounds alternate (PyTorch's, Neurite's, Neurite's, PyTorch's, ...),
so that a machine whose speed drifts over seconds slows both sides of a pair alike; printed are
each side's median samples/s and the median of the rounds' Neurite/PyTorch ratios. Neurite runs
in a WorkloadThroughput process that times one round per command (--commands). --sequential
times all of PyTorch's rounds, then all of Neurite's, and prints the ratio of the medians (the
method of the figures before 2026-12-05 in BENCHMARKS.md, and of --backends).

Usage (from the repository root, after `mvn -q install -DskipTests`):
    /usr/bin/python3 benchmarks/peer/peer.py [--threads 2] [--rounds 5] [--steps 50] [--sequential] [lenet5 fashion_cnn rowlstm resnet_small]

Needs Debian's python3-torch (and libopenblas0-pthread). Threads: torch.set_num_threads(N) and
Neurite's backend get the same N.

PyTorch runs with glibc's malloc told to keep what it frees (keep_freed_memory): with the
defaults, resnet_small's activations went back to the system after each batch and faulted their
pages in again, and PyTorch ran at two speeds depending on what the process had run before.
--torch-malloc-default leaves glibc's defaults.

Huge pages (huge_pages.py): where the kernel gives transparent huge pages on request, Neurite's
JVM runs with -XX:+UseTransparentHugePages as ./nn starts it, and the script re-executes itself
with glibc.malloc.hugetlb=1 so that PyTorch's tensors are on huge pages too (PyTorch 1.13 does
not ask for them itself); --torch-malloc-default leaves PyTorch on malloc's defaults here as well.

--backends cpu,opencl measures each named Neurite backend in the same run and prints one column
pair (samples/s, ratio to PyTorch) per backend; the OpenCL backend needs
`mvn -q -o install -pl backend-gpu-opencl -DskipTests` (its jar and JOCL's are added to the
classpath) and runs on the first OpenCL device (PoCL on a machine without a GPU).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import huge_pages  # noqa: E402

if __name__ == "__main__":
    # PyTorch's malloc on huge pages, as Neurite's heap (huge_pages): a glibc tunable, read at start.
    huge_pages.reexecute_with_huge_pages(skip="--torch-malloc-default" in sys.argv[1:])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c3 = nn.Conv2d(6, 16, 5)
        self.f5 = nn.Linear(400, 120)
        self.f6 = nn.Linear(120, 84)
        self.logits = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.c3(x)), 2)
        x = torch.relu(self.f5(x.flatten(1)))
        x = torch.relu(self.f6(x))
        return self.logits(x)


class FashionCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 5, padding=2)
        self.c2 = nn.Conv2d(32, 64, 5, padding=2)
        self.f3 = nn.Linear(64 * 7 * 7, 1024)
        self.logits = nn.Linear(1024, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.c1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.c2(x)), 2)
        x = torch.relu(self.f3(x.flatten(1)))
        return self.logits(x)


class RowLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.h = nn.LSTM(28, 128, batch_first=True)
        self.logits = nn.Linear(128, 10)

    def forward(self, x):
        _, (h_n, _) = self.h(x)
        return self.logits(h_n[-1])


class BasicBlock(nn.Module):
    """torchvision's BasicBlock, as examples/blocks/resnet.nn writes it."""

    def __init__(self, cin, c, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, c, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.downsample = None if stride == 1 and cin == c else nn.Sequential(
            nn.Conv2d(cin, c, 1, stride=stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNetSmall(nn.Module):
    """examples/resnet_small.nn: stride-2 stem, one basic block per stage at 16, 32, 64 channels."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.layer3 = BasicBlock(32, 64, 2)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


WORKLOADS = {
    # name: (PyTorch model, input shape per sample, optimiser, Neurite script)
    "lenet5": (LeNet5, (1, 28, 28), lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), "examples/lenet5.nn"),
    "fashion_cnn": (FashionCNN, (1, 28, 28), lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9), "examples/fashion_cnn.nn"),
    "rowlstm": (RowLSTM, (28, 28), lambda p: torch.optim.Adam(p, lr=0.001), "examples/rowlstm.nn"),
    "resnet_small": (ResNetSmall, (1, 28, 28), lambda p: torch.optim.Adam(p, lr=0.002), "examples/resnet_small.nn"),
}


# Warm-up before the timed rounds, at least Neurite's shortest (WorkloadThroughput.WARM_UP_NANOS: its
# JIT needs it; Neurite's goes on until its JIT is quiet, 20-22 s on resnet_small, and PyTorch's
# training warm-up in the alternated runs then lasts as long), so that neither side is timed before
# its steady state.
TRAIN_WARM_UP_SECONDS = 10.0


def warm_up(run, seconds):
    """Calls run() until `seconds` have passed (at least once)."""
    start = time.perf_counter()
    while True:
        run()
        if time.perf_counter() - start >= seconds:
            return


def torch_rounds(name, batch, steps, infer_batch):
    """The PyTorch twin's timed rounds: (one training epoch of `steps` batches, one inference pass), each returning samples/s."""
    model_class, shape, make_optimizer, _ = WORKLOADS[name]
    torch.manual_seed(1)
    model = model_class()
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch * steps, *shape)
    y = torch.randint(0, 10, (batch * steps,))

    def epoch():
        model.train()
        start = time.perf_counter()
        for s in range(steps):
            xb = x[s * batch:(s + 1) * batch]
            yb = y[s * batch:(s + 1) * batch]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        return batch * steps / (time.perf_counter() - start)

    n = infer_batch * max(1, steps // 4)
    xi = torch.rand(n, *shape)

    def infer():
        model.eval()
        start = time.perf_counter()
        with torch.no_grad():
            for s in range(0, n, infer_batch):
                model(xi[s:s + infer_batch])
        return n / (time.perf_counter() - start)

    return epoch, infer


def torch_throughput(name, batch, steps, rounds, infer_batch):
    epoch, infer = torch_rounds(name, batch, steps, infer_batch)
    warm_up(epoch, TRAIN_WARM_UP_SECONDS)
    train = [epoch() for _ in range(rounds)]
    warm_up(infer, TRAIN_WARM_UP_SECONDS / 3)
    inference = [infer() for _ in range(rounds)]
    return statistics.median(train), statistics.median(inference)


def opencl_classpath():
    """The OpenCL backend's jar and JOCL's, which the benchmarks module does not depend on."""
    backend = os.path.join(ROOT, "backend-gpu-opencl/target/neurite-backend-gpu-opencl-0.1.0-SNAPSHOT.jar")
    jocl = [os.path.join(ROOT, "cli/target/lib/jocl-2.0.5.jar"),
            os.path.expanduser("~/.m2/repository/org/jocl/jocl/2.0.5/jocl-2.0.5.jar")]
    found = [j for j in jocl if os.path.isfile(j)]
    if not os.path.isfile(backend) or not found:
        sys.exit("the opencl backend needs backend-gpu-opencl/target/*.jar and JOCL 2.0.5: "
                 "run mvn -q -o install -pl backend-gpu-opencl -DskipTests")
    return [backend, found[0]]


def workload_throughput_command(name, batch, steps, threads, infer_batch, options, backend="cpu"):
    """The java command line of WorkloadThroughput on the workload's script, with `options` after the common ones."""
    jars = [os.path.join(ROOT, "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar"), os.path.join(ROOT, "benchmarks/target/lib/*")]
    if backend == "opencl":
        jars += opencl_classpath()
    extra = [] if backend == "cpu" else ["--backend", backend]
    return (["java", "--add-modules", "jdk.incubator.vector", "-XX:InlineSmallCode=10000"] + huge_pages.java_options() + ["-cp", os.pathsep.join(jars), "org.neurite.benchmarks.WorkloadThroughput",
             os.path.join(ROOT, WORKLOADS[name][3]), "--batch", str(batch), "--steps", str(steps), "--threads", str(threads),
             "--infer-batch", str(infer_batch)] + options + extra)


def neurite_throughput(name, batch, steps, rounds, threads, infer_batch, backend="cpu"):
    out = subprocess.run(workload_throughput_command(name, batch, steps, threads, infer_batch, ["--rounds", str(rounds)], backend),
                         check=True, capture_output=True, text=True, env=huge_pages.java_environment()).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["train_samples_per_second"], result["infer_samples_per_second"]


class NeuriteRounds:
    """A WorkloadThroughput process in --commands mode: Neurite's rounds one at a time, on request."""

    def __init__(self, name, batch, steps, threads, infer_batch):
        self.errors = tempfile.TemporaryFile(mode="w+")  # the JVM's warnings; shown if it fails
        self.process = subprocess.Popen(
            workload_throughput_command(name, batch, steps, threads, infer_batch, ["--commands"]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, text=True, env=huge_pages.java_environment())
        self.expect("ready")  # Neurite's training warm-up; PyTorch is idle meanwhile
        # How long it lasted: at least 10 s, then until its JIT was quiet (WorkloadThroughput.warmUpTraining).
        self.warm_up_seconds = self.last.get("warm_up_seconds", TRAIN_WARM_UP_SECONDS)

    def expect(self, key):
        for line in self.process.stdout:
            line = line.strip()
            if line.startswith("{"):
                answer = json.loads(line)
                if key in answer:
                    self.last = answer
                    return answer[key]
        code = self.process.wait()
        self.errors.seek(0)
        sys.exit(f"WorkloadThroughput ended without answering {key} (exit {code}):\n{self.errors.read()[-2000:]}")

    def request(self, command, key):
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.expect(key)

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            self.process.wait()


# Pause before each alternated round: the side that just ran leaves threads spinning for a while
# (OpenBLAS's workers, under torch's dense layers, for about 2^28 cycles before they sleep), and
# a round started at once shares the cores with them. Without it, on a 2-core machine, Neurite's
# lenet5 training rounds ran at 14.5-15.5 thousand samples/s after a PyTorch round and 20.9-21.1
# thousand after one of its own.
SETTLE_SECONDS = 0.3


def alternate(torch_round, neurite_round, rounds):
    """rounds pairs, PyTorch first in even pairs and Neurite first in odd ones; returns both lists of samples/s."""
    def settled(run):
        time.sleep(SETTLE_SECONDS)
        return run()

    t, n = [], []
    for r in range(rounds):
        if r % 2 == 0:
            t.append(settled(torch_round))
            n.append(settled(neurite_round))
        else:
            n.append(settled(neurite_round))
            t.append(settled(torch_round))
    return t, n


def interleaved_throughput(name, batch, steps, rounds, threads, infer_batch):
    """
    PyTorch's and Neurite's rounds alternated, each side warmed up while the other is idle: returns
    (torch train, neurite train, train ratio, torch infer, neurite infer, infer ratio), the rates
    the medians of each side's rounds and the ratios the medians of the rounds' paired ratios.
    """
    epoch, infer = torch_rounds(name, batch, steps, infer_batch)
    neurite = NeuriteRounds(name, batch, steps, threads, infer_batch)
    allocated = []  # bytes per training step of each of Neurite's rounds
    waits = []      # share of each of Neurite's training rounds its two shards spent waiting for each other
    shard_waits = []  # the same, each shard's part: (shard 0's, shard 1's)

    def neurite_train():
        rate = neurite.request("train", "train")
        allocated.append(neurite.last.get("bytes_per_step", -1))
        waits.append(neurite.last.get("shard_wait_ms_per_step", 0.0) / 1000 * rate / batch)
        shard_waits.append(tuple(ms / 1000 * rate / batch for ms in neurite.last.get("shard_wait_ms_per_step_by_shard", [0.0, 0.0])))
        return rate

    try:
        warm_up(epoch, max(TRAIN_WARM_UP_SECONDS, neurite.warm_up_seconds))  # as long as Neurite's
        t_train, n_train = alternate(epoch, neurite_train, rounds)
        neurite.request("warm-infer", "ready")
        warm_up(infer, TRAIN_WARM_UP_SECONDS / 3)
        t_infer, n_infer = alternate(infer, lambda: neurite.request("infer", "infer"), rounds)
    finally:
        neurite.close()
    report_boxing(name, allocated)
    report_shard_waits(name, waits, shard_waits)
    return (statistics.median(t_train), statistics.median(n_train), statistics.median(n / t for n, t in zip(n_train, t_train)),
            statistics.median(t_infer), statistics.median(n_infer), statistics.median(n / t for n, t in zip(n_infer, t_infer)))


# Bytes a warmed-up training step may allocate (a few hundred: the step's bookkeeping). Far more means
# Vector API kernels compiled without their intrinsics in this JVM, every vector boxed, 10-45% slower
# for its whole life: a JIT state that 6 small-ResNet JVMs in 60 landed in with C2's default
# InlineSmallCode and none of 60 with the -XX:InlineSmallCode=10000 that WorkloadThroughput runs with;
# about one fashion_cnn JVM in twenty still does, 4-5% slower (BENCHMARKS.md, "the JIT lottery").
# Reported, not hidden: a row measured in it says so.
BOXING_BYTES_PER_STEP = 64 * 1024


def report_boxing(name, allocated):
    """A line on standard error when Neurite's training rounds allocated like a JVM whose kernels box their vectors."""
    counted = [b for b in allocated if b >= 0]
    if counted and statistics.median(counted) > BOXING_BYTES_PER_STEP:
        print(f"note: {name}: Neurite's JVM allocated {statistics.median(counted) / 1024:,.0f} KiB per training step "
              f"(median of its rounds): its Vector API kernels box their vectors in this JVM (BENCHMARKS.md, "
              f"'the JIT lottery'); its figures are below the usual", file=sys.stderr, flush=True)


# Share of a training step Neurite's two shards may spend waiting for each other at their batch-norm
# exchanges on an idle machine (they do the same work). More means a core was taken from one shard
# now and then (another process, a JIT compiler thread, a virtual machine's host), stalling both.
SHARD_WAIT_SHARE = 0.05


def report_shard_waits(name, waits, shard_waits=()):
    """
    A line on standard error when Neurite's two shards waited for each other for more than
    SHARD_WAIT_SHARE of its rounds, with each shard's part: the shard that waited less ran on the
    slower core, and a part that stays on one side is a core slowed for the whole run.
    """
    if waits and statistics.median(waits) > SHARD_WAIT_SHARE:
        parts = ""
        if shard_waits and any(a + b > 0 for a, b in shard_waits):
            parts = (f"; shard 0 / shard 1 waited {', '.join(f'{a:.0%}/{b:.0%}' for a, b in shard_waits)}"
                     f" (the one that waited less ran on the slower core)")
        print(f"note: {name}: Neurite's two shards waited for each other {statistics.median(waits):.0%} of a training step "
              f"(median of its rounds; rounds {', '.join(f'{w:.0%}' for w in waits)}{parts}): a core was taken from one of them "
              f"at times, which stalls both; its training figure is below the machine's idle one", file=sys.stderr, flush=True)


# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEPT_MEMORY_THRESHOLD = 1 << 30


def keep_freed_memory():
    """Tells glibc's malloc, which PyTorch's CPU tensors come from, to keep the memory freed
    blocks held: no block below 1 GiB mapped on its own, no heap trimmed. With the defaults a
    freed block above the dynamic mmap threshold goes back to the system, and the next batch's
    activations fault their pages in again: resnet_small's PyTorch twin inferred at 9.5-11.4k
    samples/s that way against 25-30k with the memory kept, trained at 4,190-4,225 against
    4,454-5,824, and which a run saw depended on what ran before it in the process (the default
    workload order gave it the fast one). jemalloc and tcmalloc keep memory too, the usual advice
    for PyTorch on a CPU. Returns a line for the header."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        kept = (libc.mallopt(M_MMAP_THRESHOLD, KEPT_MEMORY_THRESHOLD) == 1
                and libc.mallopt(M_TRIM_THRESHOLD, KEPT_MEMORY_THRESHOLD) == 1)
    except (OSError, AttributeError):
        kept = False
    if kept:
        return "PyTorch's freed memory kept by malloc (mmap and trim thresholds 1 GiB)"
    return "note: glibc's mallopt is not available here: PyTorch's malloc keeps its defaults (its speed may vary with the process's history)"


def report_blas():
    """Which BLAS torch's Linear and LSTM products run on: Debian's reference libblas makes them several times slower."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from sgemm_peer import blas_libraries
    loaded = blas_libraries()
    print(f"BLAS loaded: {loaded}")
    if "openblas" not in loaded.lower() and "mkl" not in loaded.lower():
        print("warning: torch is not on OpenBLAS or MKL; its dense and LSTM figures are too low "
              "(Debian: apt-get install libopenblas0-pthread)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--infer-batch", type=int, default=256)
    parser.add_argument("--sequential", action="store_true",
                        help="all of PyTorch's rounds, then all of Neurite's (the method before 2026-12-05); default: alternated")
    parser.add_argument("--torch-malloc-default", action="store_true",
                        help="leave glibc's malloc defaults for PyTorch (by default it keeps freed memory, keep_freed_memory, "
                             "and puts it on huge pages, huge_pages.py)")
    parser.add_argument("--backends", default="cpu",
                        help="Neurite backends to measure, comma-separated (cpu, opencl); default cpu")
    args = parser.parse_args()
    malloc_line = "PyTorch's malloc: glibc's defaults (--torch-malloc-default)" if args.torch_malloc_default else keep_freed_memory()
    backends = [b for b in args.backends.split(",") if b]
    if backends != ["cpu"]:
        return compare_backends(args, backends, malloc_line)
    torch.set_num_threads(args.threads)
    method = "PyTorch's rounds then Neurite's" if args.sequential else "rounds alternated, ratios the medians of the pairs'"
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch} (inference {args.infer_batch}), "
          f"median of {args.rounds} rounds of {args.steps} steps ({method})")
    print(malloc_line)
    print(huge_pages.describe("PyTorch's"))
    report_blas()
    print(f"{'workload':<12} {'torch train/s':>14} {'neurite train/s':>16} {'ratio':>6}   "
          f"{'torch infer/s':>14} {'neurite infer/s':>16} {'ratio':>6}")
    for name in args.workloads:
        if name not in WORKLOADS:
            sys.exit(f"unknown workload {name}; known: {', '.join(WORKLOADS)}")
        if args.sequential:
            t_train, t_infer = torch_throughput(name, args.batch, args.steps, args.rounds, args.infer_batch)
            n_train, n_infer = neurite_throughput(name, args.batch, args.steps, args.rounds, args.threads, args.infer_batch)
            train_ratio, infer_ratio = n_train / t_train, n_infer / t_infer
        else:
            t_train, n_train, train_ratio, t_infer, n_infer, infer_ratio = interleaved_throughput(
                name, args.batch, args.steps, args.rounds, args.threads, args.infer_batch)
        print(f"{name:<12} {t_train:>14,.0f} {n_train:>16,.0f} {train_ratio:>5.2f}x   "
              f"{t_infer:>14,.0f} {n_infer:>16,.0f} {infer_ratio:>5.2f}x", flush=True)


def compare_backends(args, backends, malloc_line):
    """One row per workload: PyTorch, then each backend's samples/s and its ratio to PyTorch."""
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch} (inference {args.infer_batch}), "
          f"median of {args.rounds} rounds of {args.steps} steps; Neurite backends: {', '.join(backends)}")
    print(malloc_line)
    print(huge_pages.describe("PyTorch's"))
    head = f"{'workload':<12} {'torch train/s':>14}"
    for b in backends:
        head += f" {b + ' train/s':>16} {'ratio':>6}"
    head += f"   {'torch infer/s':>14}"
    for b in backends:
        head += f" {b + ' infer/s':>16} {'ratio':>6}"
    print(head)
    for name in args.workloads:
        if name not in WORKLOADS:
            sys.exit(f"unknown workload {name}; known: {', '.join(WORKLOADS)}")
        t_train, t_infer = torch_throughput(name, args.batch, args.steps, args.rounds, args.infer_batch)
        results = [neurite_throughput(name, args.batch, args.steps, args.rounds, args.threads, args.infer_batch, b)
                   for b in backends]
        row = f"{name:<12} {t_train:>14,.0f}"
        for n_train, _ in results:
            row += f" {n_train:>16,.0f} {n_train / t_train:>5.2f}x"
        row += f"   {t_infer:>14,.0f}"
        for _, n_infer in results:
            row += f" {n_infer:>16,.0f} {n_infer / t_infer:>5.2f}x"
        print(row, flush=True)


if __name__ == "__main__":
    main()
