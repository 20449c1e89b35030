"""This version's optimiser and EMA update against the ones they replaced, in one process.

Usage: python benchmarks/step_path_ab.py [--methods M ...] [--size 32] [--batch 4] [--iters 10]
       [--rounds 6] [--threads 1]

Between c8ac70e and this version a method's training step changed in two places only: the SGD
optimiser (``advmim.blocks.sgd.SGD`` instead of ``torch.optim.SGD``) and the EMA teacher update
(``torch._foreach_*`` instead of a Python loop over the tensors). Both give the same weights bit
for bit (tests/test_sgd.py, tests/test_methods_teacher.py), so each method is built twice, once
with the old pieces swapped back in, and the two are timed alternately in one process (rounds
in the order new-old, old-new, ...): machine load hits both alike, which separate processes on a
shared machine do not get. Prints one Markdown row per method: median ms per iteration (old, new)
and new / old.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_CONFIG, bench_settings, build_method, load_average, random_batch, timed  # noqa: E402


@torch.no_grad()
def loop_ema_update(teacher, student, decay: float, step: int) -> float:
    """The EMA update as it was: a Python loop of per-tensor ops."""
    from advmim.blocks.ema import ema_alpha

    alpha = ema_alpha(step, decay)
    for t, s in zip(teacher.parameters(), student.parameters(), strict=True):
        t.mul_(alpha).add_(s.detach(), alpha=1.0 - alpha)
    for t, s in zip(teacher.buffers(), student.buffers(), strict=True):
        t.copy_(s)
    return alpha


@contextlib.contextmanager
def old_ema():
    """Swap the old EMA update into every module that imported ``ema_update``."""
    swapped = [(m, m.ema_update) for m in list(sys.modules.values())
               if m is not None and m.__name__.startswith("advmim.") and hasattr(m, "ema_update")]
    for module, _ in swapped:
        module.ema_update = loop_ema_update
    try:
        yield
    finally:
        for module, new in swapped:
            module.ema_update = new


def build(method: str, args, old: bool):
    settings = bench_settings(method, args.size, args.batch, DEFAULT_CONFIG)
    m = build_method(settings)
    if old:
        m.optimizers = {k: torch.optim.SGD(m.nets[k].parameters(), lr=settings["lr"],
                                           momentum=settings["momentum"],
                                           weight_decay=settings["weight_decay"])
                        for k in m.optimizers}
    m.train_mode()
    return m, random_batch(settings)


def run(variant, name: str, start: int, n: int) -> None:
    """``n`` training steps of one variant from iteration ``start`` (the old one with the old EMA)."""
    method, batch = variant
    with old_ema() if name == "old" else contextlib.nullcontext():
        for it in range(start, start + n):
            method.train_step(batch, it)


def main() -> int:
    from advmim.config import load_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=None, help="default: the config's methods")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    methods = args.methods or load_config(DEFAULT_CONFIG)["methods"]
    print(f"load {load_average()}", flush=True)
    print("| size | method | old ms | new ms | new / old |\n|---:|---|---:|---:|---:|", flush=True)
    for method in methods:
        variants = {"new": build(method, args, old=False), "old": build(method, args, old=True)}
        for name in variants:
            run(variants[name], name, 0, args.warmup)
        times, start = {name: [] for name in variants}, args.warmup
        for r in range(args.rounds):
            for name in list(variants)[:: 1 if r % 2 == 0 else -1]:
                variant = variants[name]
                times[name].append(timed(lambda v=variant, name=name, start=start: run(
                    v, name, start, args.iters)) / args.iters * 1000)
            start += args.iters
        old, new = (statistics.median(times[k]) for k in ("old", "new"))
        print(f"| {args.size} | {method} | {old:.1f} | {new:.1f} | {new / old:.3f} |", flush=True)
    print(f"load {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
