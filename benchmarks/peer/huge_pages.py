"""Transparent huge pages for both sides of a peer comparison.

Neurite's launcher (`./nn`) starts the JVM with -XX:+UseTransparentHugePages wherever the kernel
gives huge pages on request, so the heap that holds a training step's activations sits on 2 MiB
pages (BENCHMARKS.md, "huge pages"); the peer scripts start WorkloadThroughput and GemmThroughput
the same way (java_options). PyTorch 1.13 asks for no huge pages itself, so its allocations come
from glibc's malloc on 4 KiB pages unless glibc is told otherwise: the tunable
glibc.malloc.hugetlb=1 (glibc 2.35 and later) makes malloc advise huge pages for its heap and
mappings. A tunable is read when the process starts, so the script re-executes itself with it
(reexecute_with_huge_pages) before it imports torch, and each side runs as it would at its best.
"""
import os
import sys

THP_ENABLED = "/sys/kernel/mm/transparent_hugepage/enabled"
JVM_FLAG = "-XX:+UseTransparentHugePages"
GLIBC_TUNABLE = "glibc.malloc.hugetlb=1"


def mode():
    """The kernel's transparent huge page mode: "always", "madvise", "never", or None where it does not say."""
    try:
        with open(THP_ENABLED) as f:
            text = f.read()
    except OSError:
        return None
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else None


def glibc_has_tunable():
    """Whether this glibc knows glibc.malloc.hugetlb (2.35 and later; older ones ignore it silently)."""
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
        major, minor = (int(p) for p in version.split(".")[:2])
    except (ValueError, OSError, AttributeError):
        return False
    return name == "glibc" and (major, minor) >= (2, 35)


def available():
    """Whether a process that asks for huge pages gets them (madvise or always): the JVM warns about its flag otherwise."""
    return mode() in ("madvise", "always")


def java_options():
    """The JVM flag ./nn passes where huge pages are available, else nothing."""
    return [JVM_FLAG] if available() else []


def tunables(env):
    """The glibc tunables `env` sets, in order."""
    return [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]


def java_environment():
    """This process's environment without the glibc tunable peer_environment adds: the JVM runs as ./nn starts it."""
    env = dict(os.environ)
    others = [t for t in tunables(env) if t != GLIBC_TUNABLE]
    if others:
        env["GLIBC_TUNABLES"] = ":".join(others)
    else:
        env.pop("GLIBC_TUNABLES", None)
    return env


def peer_environment(env, skip=False):
    """
    `env` with glibc.malloc.hugetlb=1 added to GLIBC_TUNABLES where huge pages are given on request
    (madvise) and `skip` is false; `env` itself otherwise. A process started (or re-executed) with
    it gets its malloc'd memory on huge pages: the peer's side of the comparison.
    """
    present = tunables(env)
    if skip or mode() != "madvise" or GLIBC_TUNABLE in present or not glibc_has_tunable():
        return env
    return dict(env, GLIBC_TUNABLES=":".join(present + [GLIBC_TUNABLE]))


def reexecute_with_huge_pages(skip=False):
    """Re-executes this script with peer_environment where that differs from its own (call it before torch or numpy is imported)."""
    env = peer_environment(dict(os.environ), skip)
    if env.get("GLIBC_TUNABLES") != os.environ.get("GLIBC_TUNABLES"):
        sys.stdout.flush()
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def describe(peer):
    """The header line: which pages Neurite's heap and the peer's memory (`peer`, e.g. "PyTorch's") are on in this process."""
    kernel = mode()
    if kernel not in ("madvise", "always"):
        return f"huge pages: not available (transparent huge pages {kernel or 'unknown'}): both sides on 4 KiB pages"
    theirs = ("2 MiB pages (transparent huge pages always)" if kernel == "always"
              else f"2 MiB pages ({GLIBC_TUNABLE})" if GLIBC_TUNABLE in tunables(os.environ) and glibc_has_tunable()
              else "4 KiB pages (malloc's defaults)" if glibc_has_tunable()
              else "4 KiB pages (this glibc has no glibc.malloc.hugetlb)")
    return f"huge pages: Neurite's heap on 2 MiB pages ({JVM_FLAG}), {peer} memory on {theirs}"
