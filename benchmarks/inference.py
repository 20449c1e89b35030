"""Time slice-wise inference of an ACDC-sized volume with the paper-size networks.

Usage: python benchmarks/inference.py [--shape 10 216 256] [--size 224] [--repeats 3]
       [--threads 2] [--batch-size 16]

Runs :func:`advmim.inference.predict_volume` (resize each slice to 224, unmasked branch only,
labels back to the input size) for the U-Net (C) and the Swin-UNet (S) at paper sizes, randomly
initialised, in eval mode. Final line per network: ``<arch>_ms_per_volume=<median>``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PAPER_MODELS, load_average, machine, median_ms, peak_rss_mb, timed  # noqa: E402

from advmim.host_memory import reuse_freed_memory  # noqa: E402
from advmim.inference import predict_volume  # noqa: E402
from advmim.models import build_model  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=3, default=(10, 216, 256))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args(argv)
    reuse_freed_memory()  # as every advmim command does
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cpu = torch.device("cpu")
    volume = np.random.default_rng(0).random(tuple(args.shape), dtype=np.float32)
    print(f"volume {tuple(args.shape)} at {args.size} px, {args.threads} threads, "
          f"load {load_average()}; {machine()}", flush=True)
    results = {}
    for arch in ("unet", "swin_unet"):
        net = build_model(arch, 4, args.size, **PAPER_MODELS[arch]).eval()
        predict_volume(net, volume, args.size, cpu, args.batch_size)  # warm-up
        times = [
            timed(lambda n=net: predict_volume(n, volume, args.size, cpu, args.batch_size))
            for _ in range(args.repeats)
        ]
        results[arch] = median_ms(times)
        print(f"{arch}: " + ", ".join(f"{t * 1000:.0f}" for t in times) + " ms", flush=True)
    print(f"peak_rss_mb={peak_rss_mb():.1f}")
    for arch, ms in results.items():
        print(f"{arch}_ms_per_volume={ms:.1f}")


if __name__ == "__main__":
    main()
