"""Every method's training step, this checkout vs a git revision, in one run (alternating).

Usage: python benchmarks/steps_before_after.py --before REV [--methods M ...] [--sizes 32 64]
       [--batch 4] [--iters 10] [--warmup 3] [--rounds 3] [--threads 1]

For each size and method, ``--rounds`` times: ``train_step.py`` (this checkout's script) with the
after package and with the before package (a worktree of REV first on PYTHONPATH), each a fresh
process with its own warm-up, in the order after-before, then before-after, ... (so a load that
rises or falls during a run does not favour one revision). Prints one Markdown row per method and size: median ms per
iteration of each revision over the rounds, and the ratio after / before.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from revisions import ROOT, env_for, revision_tree  # noqa: E402

TRAIN_STEP = Path(__file__).resolve().parent / "train_step.py"


def step_ms(tree: Path, method: str, size: int, args) -> float:
    cmd = [sys.executable, str(TRAIN_STEP), "--method", method, "--size", str(size), "--batch",
           str(args.batch), "--iters", str(args.iters), "--warmup", str(args.warmup), "--threads",
           str(args.threads)]
    out = subprocess.run(cmd, cwd=ROOT, env=env_for(tree), check=True, capture_output=True,
                         text=True).stdout
    return float(re.search(r"ms_per_iter=([0-9.]+)", out).group(1))


def main() -> int:
    from common import DEFAULT_CONFIG, load_average

    from advmim.config import load_config

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="git revision (a worktree is made)")
    ap.add_argument("--methods", nargs="+", default=None, help="default: the config's methods")
    ap.add_argument("--sizes", nargs="+", type=int, default=[32, 64])
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    methods = args.methods or load_config(DEFAULT_CONFIG)["methods"]
    print(f"load {load_average()}", flush=True)
    print("| size | method | before ms | after ms | after / before |\n|---:|---|---:|---:|---:|", flush=True)
    with contextlib.ExitStack() as stack:
        trees = {"after": ROOT, "before": stack.enter_context(revision_tree(args.before))}
        for size in args.sizes:
            for method in methods:
                ms = {name: [] for name in trees}
                for r in range(args.rounds):  # after, before, then before, after, ...
                    for name, tree in list(trees.items())[:: 1 if r % 2 == 0 else -1]:
                        ms[name].append(step_ms(tree, method, size, args))
                before, after = (statistics.median(ms[k]) for k in ("before", "after"))
                print(f"| {size} | {method} | {before:.1f} | {after:.1f} | {after / before:.3f} |",
                      flush=True)
    print(f"load {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
