#!/usr/bin/python3
"""Writes the Fashion-MNIST subset that ships inside the examples jar.

Reads the full Fashion-MNIST IDX files (as installed by Debian's dataset-fashion-mnist package in
/usr/share/datasets/fashion-mnist/), picks a class-balanced, seeded sample of each split
(5,000 training images = 500 per class, 1,000 test images = 100 per class, kept in their
original order) and writes them as gzip-compressed IDX files with the standard names, plus a
README stating where they come from. The output is byte-for-byte reproducible: the sample
depends only on --seed, and the gzip headers carry no file name and no time stamp.

Standard library only, so it runs with the system /usr/bin/python3:

    /usr/bin/python3 tools/subset/make_subset.py \\
        --source /usr/share/datasets/fashion-mnist \\
        --out examples/src/main/resources/org/neurite/examples/data/fashion-mnist-subset
"""
import argparse
import gzip
import hashlib
import os
import random
import struct
import sys

CLASSES = 10
UNSIGNED_BYTE = 0x08
SPLITS = (("train", 5000), ("t10k", 1000))


def read_idx(path, expected_rank):
    """Returns (dims, payload bytes) of an IDX file, raw or gzip (detected by its magic bytes)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != UNSIGNED_BYTE:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    rank = raw[3]
    if rank != expected_rank:
        sys.exit(f"{path}: expected rank {expected_rank}, found {rank}")
    dims = struct.unpack(">" + "I" * rank, raw[4:4 + 4 * rank])
    payload = raw[4 + 4 * rank:]
    count = 1
    for d in dims:
        count *= d
    if len(payload) != count:
        sys.exit(f"{path}: header promises {count} data bytes, found {len(payload)}")
    return dims, payload


def find(folder, name):
    """The standard file name, compressed or not."""
    for candidate in (name + ".gz", name):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"{folder}: no {name}[.gz]")


def write_idx_gz(path, dims, payload):
    header = bytes([0, 0, UNSIGNED_BYTE, len(dims)]) + struct.pack(">" + "I" * len(dims), *dims)
    # mtime=0 and an empty file name keep the output identical from run to run.
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(header)
        gz.write(payload)


def balanced_sample(labels, total, rng):
    """total // CLASSES indices of each class, chosen by rng, returned in ascending order."""
    per_class = total // CLASSES
    by_class = [[] for _ in range(CLASSES)]
    for index, label in enumerate(labels):
        by_class[label].append(index)
    chosen = []
    for members in by_class:
        if len(members) < per_class:
            sys.exit(f"only {len(members)} samples of a class, {per_class} needed")
        chosen.extend(rng.sample(members, per_class))
    return sorted(chosen)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--out", default="examples/src/main/resources/org/neurite/examples/data/fashion-mnist-subset")
    parser.add_argument("--seed", type=int, default=20170825)  # Fashion-MNIST's release date
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    written = []
    for split, total in SPLITS:
        image_path = find(args.source, f"{split}-images-idx3-ubyte")
        label_path = find(args.source, f"{split}-labels-idx1-ubyte")
        (count, rows, cols), pixels = read_idx(image_path, 3)
        (label_count,), labels = read_idx(label_path, 1)
        if count != label_count:
            sys.exit(f"{image_path} has {count} images but {label_path} has {label_count} labels")
        chosen = balanced_sample(labels, total, rng)
        image_bytes = rows * cols
        subset_pixels = b"".join(pixels[i * image_bytes:(i + 1) * image_bytes] for i in chosen)
        subset_labels = bytes(labels[i] for i in chosen)
        for name, dims, payload, source in (
                (f"{split}-images-idx3-ubyte.gz", (len(chosen), rows, cols), subset_pixels, image_path),
                (f"{split}-labels-idx1-ubyte.gz", (len(chosen),), subset_labels, label_path)):
            target = os.path.join(args.out, name)
            write_idx_gz(target, dims, payload)
            written.append((name, dims, sha256(source), os.path.basename(source)))
            print(f"wrote {target}: {' x '.join(map(str, dims))}")

    with open(os.path.join(args.out, "README.md"), "w", encoding="utf-8") as readme:
        readme.write(README.format(
            seed=args.seed,
            files="\n".join(f"| `{name}` | {' x '.join(map(str, dims))} | `{source}` sha256 `{digest}` |"
                            for name, dims, digest, source in written)))


README = """# Fashion-MNIST subset bundled with Neurite

A class-balanced sample of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist)
(Han Xiao, Kashif Rasul, Roland Vollgraf, Zalando Research, 2017), so that the examples train
out of the box: 5,000 training images (500 of each of the 10 classes) and 1,000 test images
(100 of each class), 28 x 28 unsigned bytes, in the original IDX format, gzip-compressed, with
the standard file names. Samples keep their original relative order.

Fashion-MNIST is Copyright (c) 2017 Zalando SE and is distributed under the MIT licence
(Debian package `dataset-fashion-mnist`, licence "Expat"). The full set (60,000 + 10,000
images) is used automatically once it is installed: `sudo apt-get install dataset-fashion-mnist`.

Made by `tools/subset/make_subset.py` (seed {seed}) from the Debian package's files:

    /usr/bin/python3 tools/subset/make_subset.py \\
        --source /usr/share/datasets/fashion-mnist \\
        --out examples/src/main/resources/org/neurite/examples/data/fashion-mnist-subset

| file | shape | taken from |
|---|---|---|
{files}
"""

if __name__ == "__main__":
    main()
