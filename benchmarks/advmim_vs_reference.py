"""Time the AdvMIM step against the authors'-structure reference (benchmarks/reference_advmim.py).

Usage: python benchmarks/advmim_vs_reference.py [--size 224] [--batch 8] [--iters 2]
       [--warmup 1] [--threads 2] [--config config/config.yaml]

Both run on the same networks in one process, interleaved (ours, reference, reference, ours, ...)
so that machine load hits both alike. Prints per-repeat times and a final line
``ours_ms=... reference_ms=... ratio=...`` (ratio = ours / reference, medians).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_CONFIG,
    bench_settings,
    build_method,
    load_average,
    machine,
    median_ms,
    peak_rss_mb,
    random_batch,
    timed,
)
from reference_advmim import reference_step  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--iters", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    settings = bench_settings("advmim", args.size, args.batch, args.config)
    method = build_method(settings)
    batch = random_batch(settings)
    method.train_mode()
    print(f"advmim vs reference: {settings['img_size']} px, batch {args.batch}+{args.batch}, "
          f"fp32, {args.threads} threads; load {load_average()}; {machine()}", flush=True)
    steps = {"ours": method.train_step, "reference": lambda b, it: reference_step(method, b, it)}
    for it in range(args.warmup):
        for fn in steps.values():
            fn(batch, it)
    times: dict[str, list[float]] = {k: [] for k in steps}
    for r in range(args.iters):
        order = list(steps) if r % 2 == 0 else list(reversed(steps))
        for key in order:
            it = args.warmup + r
            times[key].append(timed(lambda f=steps[key], it=it: f(batch, it)))
            print(f"repeat {r} {key}: {times[key][-1] * 1000:.1f} ms (load {load_average()})",
                  flush=True)
    ours, ref = median_ms(times["ours"]), median_ms(times["reference"])
    print(f"peak_rss_mb={peak_rss_mb():.1f}")
    print(f"ours_ms={ours:.1f} reference_ms={ref:.1f} ratio={ours / ref:.3f}")


if __name__ == "__main__":
    main()
