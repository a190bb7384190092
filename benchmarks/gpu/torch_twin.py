#!/usr/bin/env python3
"""PyTorch's side of the GPU suite: the same SGEMM sizes and the same workloads at the same batches.

GpuSuite (run.sh) measures Neurite's OpenCL backend; this script measures PyTorch with CUDA on the
same card and prints the same table. Given GpuSuite's figures (`run.sh ... --json neurite.json`),
it prints one table of Neurite/PyTorch ratios as well.

    python3 torch_twin.py [--batch 64,256,1024] [--steps 20] [--rounds 3] [--infer-batches 8]
                          [--sizes 256,512,1024,2048,4096] [--workloads lenet5,fashion_cnn,rowlstm]
                          [--device cuda|cpu|auto] [--neurite neurite.json] [--json torch.json]

The models, their optimisers and input shapes are benchmarks/peer/peer.py's (imported, not copied):
the PyTorch twins of examples/lenet5.nn, fashion_cnn.nn and rowlstm.nn. FP32 throughout: TF32 is
turned off for matrix products and cuDNN, as Neurite computes in FP32. What is timed, as in
GpuSuite: one warm-up epoch of `steps` steps, then `rounds` epochs (median samples/s and ms/step);
inference at the same batch, `infer-batches` batches per round, after one warm-up round. Random
data is made once on the device (PyTorch's best case: no host-to-device copy per batch, whereas
Neurite's trainer uploads each batch from host memory). Every timed region ends with
torch.cuda.synchronize(). SGEMM: torch.mm on n x n float32 matrices, repeated for at least 200 ms
per round, median GFLOP/s (2 n^3 flops per call) of `rounds` rounds.
"""
import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ left next to peer.py
# benchmarks/peer/peer.py in a checkout; peer/peer.py next to this script in the GPU bundle.
for folder in (os.path.join(HERE, "..", "peer"), os.path.join(HERE, "peer")):
    if os.path.isfile(os.path.join(folder, "peer.py")):
        sys.path.insert(0, folder)
        break

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from peer import WORKLOADS  # noqa: E402


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def workload(name, device, batch, steps, rounds, infer_batches):
    """Median train samples/s, ms/step and inference samples/s of one workload at one batch."""
    model_class, shape, make_optimizer, _ = WORKLOADS[name]
    torch.manual_seed(1)
    model = model_class().to(device)
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(batch * steps, *shape, device=device)
    y = torch.randint(0, 10, (batch * steps,), device=device)

    def epoch():
        model.train()
        synchronize(device)
        start = time.perf_counter()
        for s in range(steps):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[s * batch:(s + 1) * batch]), y[s * batch:(s + 1) * batch])
            loss.backward()
            optimizer.step()
        synchronize(device)
        return time.perf_counter() - start

    epoch()  # warm-up: cuDNN's algorithm choice, allocator, kernels loaded
    seconds = [epoch() for _ in range(rounds)]
    xi = torch.rand(batch * infer_batches, *shape, device=device)

    def infer():
        model.eval()
        synchronize(device)
        start = time.perf_counter()
        with torch.no_grad():
            for s in range(infer_batches):
                model(xi[s * batch:(s + 1) * batch])
        synchronize(device)
        return batch * infer_batches / (time.perf_counter() - start)

    infer()
    inference = [infer() for _ in range(rounds)]
    median_seconds = statistics.median(seconds)
    return {"workload": name, "backend": "torch-" + device.type, "batch": batch, "steps": steps,
            "train_samples_per_second": batch * steps / median_seconds, "ms_per_step": median_seconds * 1e3 / steps,
            "infer_samples_per_second": statistics.median(inference)}


def sgemm(n, device, rounds):
    a = torch.rand(n, n, device=device) * 2 - 1
    b = torch.rand(n, n, device=device) * 2 - 1
    torch.mm(a, b)
    synchronize(device)
    start = time.perf_counter()
    torch.mm(a, b)
    synchronize(device)
    calls = int(max(1, min(1000, 0.2 / max(1e-6, time.perf_counter() - start))))
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            torch.mm(a, b)
        synchronize(device)
        rates.append(2.0 * n ** 3 * calls / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def ratio(ours, theirs):
    return f"{ours / theirs:5.2f}x" if ours and theirs else "    -"


def print_ratios(neurite, torch_figures):
    """One table: SGEMM and each workload at each batch, Neurite (OpenCL) against PyTorch."""
    print(f"\n== Neurite ({neurite.get('device', '?')}) / PyTorch ({torch_figures['device']})")
    if neurite.get("parity", "not run") != "not run":
        print(f"Neurite parity: {neurite['parity']}")
    print(f"{'SGEMM n':<24} {'neurite GFLOP/s':>16} {'torch GFLOP/s':>14} {'ratio':>6}")
    for n, theirs in torch_figures["sgemm_gflops"].items():
        ours = neurite.get("sgemm_gflops", {}).get(n)
        print(f"{n:<24} {ours or 0:>16,.1f} {theirs:>14,.1f} {ratio(ours, theirs):>6}")
    ours_by_key = {(w["workload"], w["batch"]): w for w in neurite.get("workloads", []) if w["backend"] == "opencl"}
    print(f"{'workload @ batch':<24} {'neurite train/s':>16} {'torch train/s':>14} {'ratio':>6}"
          f" {'neurite ms/step':>16} {'launches/step':>14}   {'neurite infer/s':>16} {'torch infer/s':>14} {'ratio':>6}")
    for t in torch_figures["workloads"]:
        o = ours_by_key.get((t["workload"], t["batch"]), {})
        print(f"{t['workload'] + ' @ ' + str(t['batch']):<24} {o.get('train_samples_per_second') or 0:>16,.0f}"
              f" {t['train_samples_per_second']:>14,.0f} {ratio(o.get('train_samples_per_second'), t['train_samples_per_second']):>6}"
              f" {o.get('ms_per_step') or 0:>16.3f} {o.get('launches_per_step') or 0:>14.1f}"
              f"   {o.get('infer_samples_per_second') or 0:>16,.0f} {t['infer_samples_per_second']:>14,.0f}"
              f" {ratio(o.get('infer_samples_per_second'), t['infer_samples_per_second']):>6}")
    # Batch scaling: training throughput at the largest batch over the smallest, Neurite and PyTorch.
    batches = sorted({t["batch"] for t in torch_figures["workloads"]})
    if len(batches) > 1:
        lo, hi = batches[0], batches[-1]
        for name in dict.fromkeys(t["workload"] for t in torch_figures["workloads"]):
            ours = [ours_by_key.get((name, b), {}).get("train_samples_per_second") for b in (lo, hi)]
            theirs = [next(t["train_samples_per_second"] for t in torch_figures["workloads"]
                           if t["workload"] == name and t["batch"] == b) for b in (lo, hi)]
            print(f"scaling {name} batch {hi} / batch {lo}: neurite {ratio(ours[1], ours[0])}, torch {ratio(theirs[1], theirs[0])}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", default="64,256,1024")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--infer-batches", type=int, default=8)
    parser.add_argument("--sizes", default="256,512,1024,2048,4096")
    parser.add_argument("--workloads", default="lenet5,fashion_cnn,rowlstm")
    parser.add_argument("--device", default="cuda", help="cuda, cpu, or auto (cuda when PyTorch has it, else cpu)")
    parser.add_argument("--neurite", help="GpuSuite's --json file: print Neurite/PyTorch ratios")
    parser.add_argument("--json", help="write this script's figures here")
    args = parser.parse_args()

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit(f"torch_twin.py: PyTorch {torch.__version__} has no CUDA device here (use --device cpu or auto)")
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"== PyTorch {torch.__version__} on {name}, FP32 (TF32 off)", flush=True)
    figures = {"framework": "torch", "device": name, "torch": torch.__version__, "sgemm_gflops": {}, "workloads": []}
    for n in [int(s) for s in args.sizes.split(",") if s.strip()]:
        figures["sgemm_gflops"][str(n)] = sgemm(n, device, args.rounds)
        print(f"sgemm {n}: {figures['sgemm_gflops'][str(n)]:,.1f} GFLOP/s", flush=True)
    for w in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        if w not in WORKLOADS:
            sys.exit(f"torch_twin.py: unknown workload {w}; known: {', '.join(WORKLOADS)}")
        for batch in [int(b) for b in args.batch.split(",") if b.strip()]:
            r = workload(w, device, batch, args.steps, args.rounds, args.infer_batches)
            figures["workloads"].append(r)
            print(f"{w} batch {batch}: train {r['train_samples_per_second']:,.0f} samples/s ({r['ms_per_step']:.3f} ms/step), "
                  f"infer {r['infer_samples_per_second']:,.0f} samples/s", flush=True)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(figures, f, indent=2)
        os.replace(tmp, args.json)
    if args.neurite:
        with open(args.neurite) as f:
            print_ratios(json.load(f), figures)


if __name__ == "__main__":
    main()
