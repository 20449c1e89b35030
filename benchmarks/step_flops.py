"""Arithmetic of one training step vs this CPU's matrix-multiply rate: the step's compute floor.

Usage: python benchmarks/step_flops.py [--method advmim] [--size 224] [--batch 8] [--threads 2]

Counts the floating-point operations of one ``train_step`` (torch.utils.flop_counter: matmuls,
convolutions and attention, forward and backward), times a large fp32 (and bf16) GEMM, and prints
the step time the FLOPs alone would take at that GEMM rate. A step can only beat that floor by
doing less arithmetic or by using a faster number format. Final line:
``gflop_per_step=... gemm_fp32_gflops=... floor_fp32_ms=... gemm_bf16_gflops=... floor_bf16_ms=...``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from advmim.host_memory import reuse_freed_memory

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import bench_settings, build_method, load_average, machine, random_batch, timed  # noqa: E402


def gemm_gflops(dtype: torch.dtype, n: int = 4096, k: int = 1024, repeats: int = 5) -> float:
    """Best rate of an (n x k) @ (k x k) product over ``repeats``."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, k, generator=gen).to(dtype)
    b = torch.randn(k, k, generator=gen).to(dtype)
    a @ b
    best = min(timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n * k * k / best / 1e9


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="advmim")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    reuse_freed_memory()
    torch.set_num_threads(args.threads)
    settings = bench_settings(args.method, args.size, args.batch)
    method = build_method(settings)
    batch = random_batch(settings)
    method.train_mode()
    print(f"{args.method}: {settings['img_size']} px, batch {args.batch}+{args.batch}, "
          f"{args.threads} threads; load {load_average()}; {machine()}", flush=True)
    counter = FlopCounterMode(display=False)
    with counter:
        method.train_step(batch, 0)
    gflop = counter.get_total_flops() / 1e9
    fp32 = gemm_gflops(torch.float32)
    bf16 = gemm_gflops(torch.bfloat16)
    print(f"gflop_per_step={gflop:.1f} gemm_fp32_gflops={fp32:.1f} floor_fp32_ms={gflop / fp32 * 1000:.0f} "
          f"gemm_bf16_gflops={bf16:.1f} floor_bf16_ms={gflop / bf16 * 1000:.0f}")


if __name__ == "__main__":
    main()
