#!/usr/bin/env python3
"""Per-operator times of a peer workload in PyTorch: the counterpart of Neurite's OpProfile.

Runs one of peer.py's PyTorch twins (the same models, optimisers and batches) under
torch.autograd.profiler and prints, per operator and input shapes, the self CPU time per training
step and per inference batch, largest first, so that a layer's time can be set beside the line
OpProfile prints for it:

    /usr/bin/python3 benchmarks/peer/torch_op_profile.py resnet_small [--threads 1] [--steps 20]
    java --add-modules jdk.incubator.vector -cp "benchmarks/target/neurite-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \\
        org.neurite.benchmarks.OpProfile examples/resnet_small.nn --batch 64 --threads 1

The profiler adds its own cost per operator (a few microseconds), so the sum of the lines is
above the unprofiled time, which is printed first. One mkldnn_convolution line is a forward;
one convolution_backward line is a layer's backward-data and backward-filter together. As in
peer.py, glibc's malloc keeps what PyTorch frees (peer.keep_freed_memory) and, where the kernel
gives transparent huge pages on request, puts it on huge pages (huge_pages.py).
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import huge_pages  # noqa: E402

if __name__ == "__main__":
    huge_pages.reexecute_with_huge_pages()  # PyTorch's tensors on huge pages, as in peer.py

import torch  # noqa: E402
import peer  # noqa: E402  (the twins and their optimisers)


def profile(run, steps, label, limit):
    """Times `run` unprofiled, then prints its operators' self CPU time per call of `run`."""
    for _ in range(steps):
        run()
    start = time.perf_counter()
    for _ in range(steps):
        run()
    print(f"{label}: {(time.perf_counter() - start) / steps * 1000:.2f} ms per call unprofiled")
    with torch.autograd.profiler.profile(record_shapes=True) as prof:
        for _ in range(steps):
            run()
    rows = sorted(prof.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total)
    for e in rows[:limit]:
        shapes = ", ".join(str(s) for s in e.input_shapes[:2] if s)
        print(f"  {e.key:34s} {shapes[:56]:56s} {e.count / steps:5.1f} calls {e.self_cpu_time_total / steps / 1000:8.3f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=list(peer.WORKLOADS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--infer-batch", type=int, default=256)
    parser.add_argument("--limit", type=int, default=25, help="operators printed per table")
    args = parser.parse_args()
    malloc_line = peer.keep_freed_memory()   # before the model's tensors are allocated
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model_class, sample_shape, optimiser, _ = peer.WORKLOADS[args.workload]
    model = model_class()
    opt = optimiser(model.parameters())
    loss = torch.nn.CrossEntropyLoss()
    x = torch.randn(args.batch, *sample_shape)
    t = torch.randint(0, 10, (args.batch,))

    def train_step():
        opt.zero_grad()
        loss(model(x), t).backward()
        opt.step()

    xi = torch.randn(args.infer_batch, *sample_shape)

    def infer():
        with torch.no_grad():
            model(xi)

    pages_line = huge_pages.describe("PyTorch's")
    print(f"torch {torch.__version__}, {args.threads} threads, {args.workload}; {malloc_line}; {pages_line}")
    model.train()
    profile(train_step, args.steps, f"training, batch {args.batch}", args.limit)
    model.eval()
    profile(infer, args.steps, f"inference, batch {args.infer_batch}", args.limit)


if __name__ == "__main__":
    main()
