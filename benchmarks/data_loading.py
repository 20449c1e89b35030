"""Time the training loop's batch path (make_batch + EpochSampler + augment_slice) per iteration.

Usage: python benchmarks/data_loading.py [--size 224] [--batch 8] [--iters 50]
       [--slice-shape 216 256] [--step-ms MS | --method advmim]

Builds in-memory slice sets of ACDC-like size (random images, 4-class labels), then times what
``advmim.train.loop.train`` does per iteration: one labeled batch (image + label) and one
unlabeled batch (image only). Compares to a step time: ``--step-ms``, else the recorded median
of ``--method`` at the same image/batch size in benchmarks/step_times.json. Final line:
``load_ms_per_iter=... step_ms=... fraction=...`` (goal: fraction <= 0.05).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import load_average, median_ms, timed  # noqa: E402

from advmim.train.loop import make_batch  # noqa: E402
from advmim.train.sampling import EpochSampler  # noqa: E402

STEP_TIMES = Path(__file__).resolve().parent / "step_times.json"


def fake_slices(n: int, shape: tuple[int, int], img_size: int, with_label: bool, seed: int):
    """An object with the attributes make_batch reads (images, labels, img_size)."""
    rng = np.random.default_rng(seed)
    images = [rng.random(shape, dtype=np.float32) for _ in range(n)]
    labels = [rng.integers(0, 4, shape, dtype=np.uint8) if with_label else None for _ in range(n)]
    return SimpleNamespace(images=images, labels=labels, img_size=img_size)


def recorded_step_ms(method: str, size: int, batch: int) -> float | None:
    if not STEP_TIMES.exists():
        return None
    for e in json.loads(STEP_TIMES.read_text())["entries"]:
        if (e["method"], e.get("img_size"), e.get("batch_labeled")) == (method, size, batch):
            return float(e["ms_per_iter"])
    return None


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--slice-shape", type=int, nargs=2, default=(216, 256))
    ap.add_argument("--slices", type=int, default=200)
    ap.add_argument("--step-ms", type=float, default=None)
    ap.add_argument("--method", default="advmim")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    shape = tuple(args.slice_shape)
    labeled = fake_slices(args.slices, shape, args.size, True, 0)
    unlabeled = fake_slices(args.slices, shape, args.size, False, 1)
    lab = EpochSampler(len(labeled.images), args.batch, 1337, "labeled")
    unl = EpochSampler(len(unlabeled.images), args.batch, 1337, "unlabeled")
    cpu = torch.device("cpu")

    def one(it: int) -> None:
        make_batch(labeled, lab, it, cpu)
        make_batch(unlabeled, unl, it, cpu)

    one(0)
    times = [timed(lambda it=it: one(it)) for it in range(1, args.iters + 1)]
    ms = median_ms(times)
    print(f"batch {args.batch}+{args.batch} at {args.size} px from {shape} slices, "
          f"load {load_average()}: {ms:.1f} ms per iteration (median of {args.iters})")
    step = args.step_ms or recorded_step_ms(args.method, args.size, args.batch)
    if step is None:
        print(f"load_ms_per_iter={ms:.2f} step_ms=unknown fraction=unknown")
    else:
        print(f"load_ms_per_iter={ms:.2f} step_ms={step:.1f} fraction={ms / step:.4f}")


if __name__ == "__main__":
    main()
