"""Dice of every method on the embedded default, this checkout against a git revision, over seeds.

Usage: python benchmarks/methods_before_after.py --before REV [--after REV] [--methods cps dct ...]
       [--seeds 1337 1338 1339] [--labeled 2 4] [--jobs 2] [--work DIR] [--out FILE.md]

Both revisions (checked out as git worktrees under ``--work``, so editing this checkout
meanwhile changes nothing) train on the same converted phantom (made once by this checkout's
``advmim phantom`` + ``advmim convert`` with the embedded default's settings) with the run settings
each version's own ``config/config.yaml`` gives (so "before" is that revision as it was shipped),
then each run is evaluated on the test split in paper mode. Jobs of the two versions alternate,
so machine load hits both alike; every finished run leaves ``DIR/<version>/<method>/L<n>/seed<s>/
metrics.json``, and a rerun skips runs already done (resumable). Prints, and writes to ``--out``,
a Markdown table: mean ± std of the reported networks' mean Dice (%) over the seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from common import emit, make_default_data  # noqa: E402

SETTINGS_CODE = (
    "import json, sys; from advmim.config import load_config, run_settings; "
    "c = load_config('config/config.yaml'); "
    "print(json.dumps(run_settings(c, sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))"
)


def advmim(tree: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """``python -m advmim ARGS`` with the package of ``tree`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([sys.executable, "-m", "advmim", *args], cwd=tree, env=env,
                          check=True, capture_output=True, text=True, **kwargs)


def run_one(tree: Path, version: str, method: str, labeled: int, seed: int, data: Path,
            work: Path) -> dict:
    """Train + evaluate one run of ``tree`` (skipped when its metrics exist); its metrics."""
    run = work / version / method / f"L{labeled}" / f"seed{seed}"
    metrics = run / "metrics.json"
    if not metrics.is_file():
        env = {**os.environ, "PYTHONPATH": str(tree)}
        settings = subprocess.run(
            [sys.executable, "-c", SETTINGS_CODE, method, str(labeled), str(seed)],
            cwd=tree, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()
        advmim(tree, "train", "--data", str(data), "--settings", settings, "--out", str(run),
               "--threads", "1", "--device", "cpu", "--no-progress")
        advmim(tree, "evaluate", "--model", str(run / "model.pt"), "--data", str(data),
               "--out", str(metrics), "--threads", "1")
    result = json.loads(metrics.read_text())
    return {key: net["mean"]["dice"]["mean"] for key, net in result["networks"].items()}


def cell(values: list[float]) -> str:
    pct = [100 * v for v in values]
    sd = statistics.stdev(pct) if len(pct) > 1 else float("nan")
    return f"{statistics.mean(pct):.1f} ± {sd:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare with")
    parser.add_argument("--after", default="HEAD", help="git revision measured as 'after' (HEAD)")
    parser.add_argument("--methods", nargs="+", default=None, help="default: the config's methods")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1337, 1338, 1339])
    parser.add_argument("--labeled", nargs="+", type=int, default=None, help="default: the config's")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (1 thread each)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "advmim-before-after")
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    import yaml

    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    methods = args.methods or config["methods"]
    labeled = args.labeled or config["labeled"]
    args.work.mkdir(parents=True, exist_ok=True)
    trees = {}
    for version, rev in (("before", args.before), ("after", args.after)):
        trees[version] = args.work / f"{version}-tree"
        if not trees[version].exists():
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach",
                            str(trees[version]), rev], check=True, capture_output=True)
    data = make_default_data(args.work, lambda *a: advmim(REPO, *a))
    from advmim.methods import get_method

    def labeled_of(m):  # upper bounds train on every label: one run, at the smallest subset
        return [min(labeled)] if get_method(m).all_labels else labeled

    jobs = [(v, m, n, s) for n in labeled for s in args.seeds for m in methods
            if n in labeled_of(m) for v in trees]
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {job: pool.submit(run_one, trees[job[0]], *job, data, args.work) for job in jobs}
        results = {job: f.result() for job, f in futures.items()}
    rev = {v: subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip() for v, tree in trees.items()}
    lines = [f"Mean Dice % (test, paper mode), mean ± std over seeds {args.seeds}; "
             f"before = {rev['before']}, after = {rev['after']}.", "",
             "| method | network | labeled | before | after | after - before |", "|---|---|---|---|---|---|"]
    for m in methods:
        for n in labeled_of(m):
            keys = sorted(results[("after", m, n, args.seeds[0])])
            for key in keys:
                b = [results[("before", m, n, s)].get(key) for s in args.seeds]
                a = [results[("after", m, n, s)][key] for s in args.seeds]
                if None in b:
                    continue
                diff = 100 * (statistics.mean(a) - statistics.mean(b))
                lines.append(f"| {m} | {key} | {n} | {cell(b)} | {cell(a)} | {diff:+.1f} |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
