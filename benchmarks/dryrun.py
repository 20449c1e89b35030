"""Peak memory and wall time of ``snakemake -n`` (the Snakemake process itself), two revisions in
one run.

Usage: python benchmarks/dryrun.py [--before REV] [--repeats N] [--configfile FILE]

Runs ``snakemake -n`` of this checkout and, with ``--before``, of a git worktree of REV (made
under a temporary folder, with this checkout's venv interpreter), alternating, ``--repeats``
times each, each in an empty results folder so that every job is planned. Peak RSS comes from
``resource.getrusage(RUSAGE_CHILDREN)`` of a fresh child per run (the Snakemake process and any
child it waited for). Prints the median of each revision and the ratio after / before.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from revisions import revision_tree  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
if done.returncode:
    sys.exit(done.stderr[-2000:])
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def measure(tree: Path, configfile: str | None, results: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of one ``snakemake -n`` in ``tree``."""
    snakemake = Path(sys.executable).with_name("snakemake")
    options = ["--configfile", configfile] if configfile else []
    cmd = [sys.executable, "-c", MEASURE, str(snakemake), "-n", "--cores", "2", *options,
           "--config", f"results_dir={results}"]
    out = subprocess.run(cmd, cwd=tree, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="git revision to compare with (a worktree is made)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--configfile", help="a --configfile for both revisions (default: none)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        trees = {"after": ROOT}
        if args.before:
            trees["before"] = stack.enter_context(revision_tree(args.before))
        figures = {name: [] for name in trees}
        for i in range(args.repeats):
            for name, tree in trees.items():
                figures[name].append(measure(tree, args.configfile, Path(tmp) / f"res_{name}_{i}"))
    summary = {name: {"wall_s": round(statistics.median(w for w, _ in runs), 2),
                      "peak_rss_mb": round(statistics.median(m for _, m in runs), 1)}
               for name, runs in figures.items()}
    if "before" in summary:
        summary["ratio_after_before"] = {
            k: round(summary["after"][k] / summary["before"][k], 3) for k in ("wall_s", "peak_rss_mb")}
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
