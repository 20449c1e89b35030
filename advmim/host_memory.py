"""Reuse freed host memory instead of returning it to the kernel (glibc only).

glibc serves every allocation above 32 MiB with a fresh ``mmap`` and unmaps it on free, so each
training step's large activations (GBs at 224 px) are page-faulted and zeroed by the kernel again:
at the paper configuration that system time exceeded the arithmetic (benchmarks/README.md).
Serving all allocations from the heap and never trimming it makes later steps reuse the pages.
Numerics are untouched; the process keeps its peak memory until it exits.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD = -1  # mallopt parameters from glibc's malloc.h
M_MMAP_MAX = -4
TRIM_NEVER = 2**31 - 1  # the largest value the int argument takes: 2 GiB of free top is kept


@functools.cache
def reuse_freed_memory() -> bool:
    """Apply the setting once per process; False where the C library has no ``mallopt``."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_NEVER))
