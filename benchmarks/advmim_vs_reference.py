"""Time the AdvMIM step against the authors'-structure reference, and optionally a git revision.

Usage: python benchmarks/advmim_vs_reference.py [--size 224] [--batch 8] [--iters 2]
       [--warmup 1] [--rounds 1] [--threads 2] [--before REV] [--config config/config.yaml]

Each variant runs in its own process, as it would run in practice, and the processes alternate
(ours, reference, [before], then reversed, ... for ``--rounds``) so that machine load hits all alike:

- ``ours``: this checkout's ``AdvMIM.train_step`` as ``advmim train`` runs it (freed host memory
  reused, channels-last networks);
- ``reference``: benchmarks/reference_advmim.py, the authors' structure (every network separately
  on each input, NCHW, the C library's default allocator) on the same networks, weights and masks;
- ``before`` (with ``--before REV``): ``AdvMIM.train_step`` of git revision REV, exported to a
  temporary folder and imported from there.

Prints per-process times and final lines ``<variant>_ms=<median>`` and
``ours_ms=... reference_ms=... ratio=...`` (ratio = ours / reference; also ours / before).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def worker(args) -> None:
    """Run warm-up + timed steps of one variant in this process; print one JSON line."""
    sys.path.insert(0, str(HERE))
    import torch
    from common import bench_settings, build_method, peak_rss_mb, random_batch, timed

    if args.variant == "ours":
        from advmim.host_memory import reuse_freed_memory

        reuse_freed_memory()
    torch.set_num_threads(args.threads)
    settings = bench_settings("advmim", args.size, args.batch, args.config)
    settings["channels_last"] = args.variant != "reference"
    method = build_method(settings)
    batch = random_batch(settings)
    method.train_mode()
    if args.variant == "reference":
        from reference_advmim import reference_step

        def step(it):
            return reference_step(method, batch, it)
    else:

        def step(it):
            return method.train_step(batch, it)

    for it in range(args.warmup):
        step(it)
    times = [timed(lambda it=it: step(it)) for it in range(args.warmup, args.warmup + args.iters)]
    import advmim

    print(json.dumps({"times": times, "peak_rss_mb": peak_rss_mb(), "package": advmim.__file__}),
          flush=True)


def export_revision(rev: str, dest: Path) -> Path:
    """``git archive`` of ``rev`` unpacked under ``dest``; returns the tree's root."""
    tree = dest / "tree"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def run_variant(variant: str, args, package_root: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", variant]
    for opt in ("size", "batch", "iters", "warmup", "threads"):
        cmd += [f"--{opt}", str(getattr(args, opt))]
    # a revision reads its own configuration (its schema may not know this checkout's keys)
    config = Path(args.config)
    if variant == "before" and config.resolve().is_relative_to(REPO):
        config = package_root / config.resolve().relative_to(REPO)
    cmd += ["--config", str(config)]
    env = dict(os.environ, PYTHONPATH=str(package_root))
    out = subprocess.run(cmd, env=env, cwd=package_root, check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if not Path(result["package"]).is_relative_to(package_root):
        raise RuntimeError(f"{variant}: imported advmim from {result['package']}, not {package_root}")
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--iters", type=int, default=2, help="timed steps per process")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=1, help="processes per variant")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--before", metavar="REV", help="also time AdvMIM of this git revision")
    ap.add_argument("--config", type=Path, default=HERE.parent / "config" / "config.yaml")
    ap.add_argument("--worker", choices=["ours", "reference", "before"], dest="variant",
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.variant:
        return worker(args)

    sys.path.insert(0, str(HERE))
    from common import load_average, machine

    print(f"advmim vs reference: {args.size} px, batch {args.batch}+{args.batch}, fp32, "
          f"{args.threads} threads; load {load_average()}; {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        roots = {"ours": REPO, "reference": REPO}
        if args.before:
            roots["before"] = export_revision(args.before, Path(tmp))
        variants = list(roots)
        times: dict[str, list[float]] = {v: [] for v in variants}
        rss: dict[str, float] = {}
        for r in range(args.rounds):
            for v in variants if r % 2 == 0 else variants[::-1]:
                result = run_variant(v, args, roots[v])
                times[v] += result["times"]
                rss[v] = max(rss.get(v, 0.0), result["peak_rss_mb"])
                shown = ", ".join(f"{t * 1000:.0f}" for t in result["times"])
                print(f"round {r} {v}: {shown} ms; peak RSS {result['peak_rss_mb']:.0f} MB "
                      f"(load {load_average()})", flush=True)
    med = {v: statistics.median(ts) * 1000 for v, ts in times.items()}
    for v in variants:
        print(f"{v}_ms={med[v]:.1f} peak_rss_mb={rss[v]:.1f}")
    if "before" in med:
        print(f"ours/before={med['ours'] / med['before']:.3f}")
    print(f"ours_ms={med['ours']:.1f} reference_ms={med['reference']:.1f} "
          f"ratio={med['ours'] / med['reference']:.3f}")


if __name__ == "__main__":
    main()
