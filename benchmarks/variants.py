"""One change at a time: runs of a configuration (methods, or ablation variants ``abl-NAME``
defined as data in its ``ablations:``) trained per seed and scored on the val split.

Usage: python benchmarks/variants.py --configfile config/acdc_cpu.yaml config/experiments/X.yaml
       --runs supervised_unet cct abl-cct_sup_scale --labeled 3 --seeds 1337 1338
       --data DIR [--checkpoints last best_val] [--split val] [--jobs 2] [--work DIR] [--out F.md]

Every run gets exactly the settings the workflow would give it (``advmim.runs.job_settings`` of
the ``--configfile`` files merged over config/config.yaml), is trained once per seed and
evaluated on ``--split`` (val: experiments choose there, never on test) with each checkpoint
rule of ``--checkpoints`` (``best_val`` needs ``evaluation.checkpoint: best_val`` in the
configuration, which makes training score val every ``val_every`` iterations). Prints, and
writes to ``--out``, mean ± std Dice (%) per run and network over seeds, and each run's paired
difference (same seeds) to ``--reference`` (default: the first run with the same networks).
Runs live under ``--work``, named by a hash of their settings, and are skipped on a rerun
(resumable; a changed configuration trains anew).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from common import advmim_cli, emit, make_default_data, mean_sd  # noqa: E402


def run_dir(work: Path, run: str, labeled: int, seed: int, settings: dict) -> Path:
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    return work / "runs" / run / f"L{labeled}" / f"seed{seed}-{key}"


def train_and_score(settings: dict, data: Path, run: Path, split: str, checkpoints: tuple[str, ...]) -> dict:
    """Train (unless done) and evaluate each checkpoint rule; {rule: {network: Dice (0-1)}}."""
    if not (run / "model.pt").is_file():
        advmim_cli("train", "--data", str(data), "--settings", json.dumps(settings), "--out", str(run),
                   "--threads", "1", "--device", "cpu", "--no-progress")
    scores = {}
    for rule in checkpoints:
        metrics = run.parent / f"{run.name}_{split}_{rule}.json"
        if not metrics.is_file():
            advmim_cli("evaluate", "--model", str(run / "model.pt"), "--data", str(data), "--out",
                       str(metrics), "--split", split, "--checkpoint", rule, "--threads", "1")
        networks = json.loads(metrics.read_text())["networks"]
        scores[rule] = {net: value["mean"]["dice"]["mean"] for net, value in networks.items()}
    return scores


def result_lines(results: dict, runs: list[str], seeds: list[int], reference: str | None) -> list[str]:
    """Markdown: per run, rule and network, mean ± std Dice (%) and the paired difference."""
    lines = ["| run | rule | network | Dice % (mean ± std) | per seed | vs reference (paired mean ± std) |",
             "|---|---|---|---:|---|---:|"]
    for run in runs:
        rules = sorted({rule for (r, _, rule) in results if r == run}, key=("last", "best_val").index)
        for rule in rules:
            for net in results[(run, seeds[0], rule)]:
                values = [results[(run, s, rule)][net] for s in seeds]  # fractions; mean_sd gives %
                mean, sd = mean_sd(values)
                ref = reference or next((r for r in runs if net in results.get((r, seeds[0], rule), {})), run)
                diff = "-"
                if ref != run and net in results.get((ref, seeds[0], rule), {}):
                    deltas = [v - results[(ref, s, rule)][net] for s, v in zip(seeds, values, strict=True)]
                    d_mean, d_sd = mean_sd(deltas)
                    diff = f"{d_mean:+.2f} ± {d_sd:.2f} (vs {ref})"
                per_seed = " / ".join(f"{100 * v:.1f}" for v in values)
                lines.append(f"| {run} | {rule} | {net} | {mean:.2f} ± {sd:.2f} | {per_seed} | {diff} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    from advmim.runs import job_settings, load_configs

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", nargs="+", default=[], help="merged over config/config.yaml in order")
    ap.add_argument("--runs", nargs="+", required=True, help="methods or abl-NAME variants of the configuration")
    ap.add_argument("--reference", default=None, help="run the others are compared with (default: the "
                    "first run that has the same network)")
    ap.add_argument("--labeled", type=int, default=None, help="default: the configuration's first")
    ap.add_argument("--seeds", type=int, nargs="+", default=None, help="default: the configuration's")
    ap.add_argument("--split", choices=["val", "test"], default="val")
    ap.add_argument("--checkpoints", nargs="+", choices=["last", "best_val"], default=["last"])
    ap.add_argument("--data", type=Path, default=None,
                    help="converted or prepared data (default: the configuration's phantom, made under --work)")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (1 thread each)")
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    config = load_configs(args.configfile)
    labeled = args.labeled or config["labeled"][0]
    seeds = args.seeds or config["seeds"]
    work = args.work or Path(tempfile.mkdtemp(prefix="advmim-variants-"))
    data = args.data or make_default_data(work, advmim_cli, config)
    jobs = []
    for run in args.runs:
        for seed in seeds:
            settings = job_settings(config, run, labeled, seed)
            settings["device"] = "cpu"
            jobs.append((run, seed, settings, run_dir(work, run, labeled, seed, settings)))
    print(f"{len(jobs)} runs under {work}", flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [(run, seed, pool.submit(train_and_score, s, data, d, args.split, tuple(args.checkpoints)))
                   for run, seed, s, d in jobs]
        results = {}
        for run, seed, future in futures:
            for rule, scores in future.result().items():
                results[(run, seed, rule)] = scores
            print(f"done: {run} seed {seed}", flush=True)
    title = (f"{args.split} Dice, {labeled} labeled, seeds {', '.join(map(str, seeds))}; configuration "
             f"{' + '.join(['config/config.yaml', *args.configfile])}")
    emit([title, "", *result_lines(results, args.runs, seeds, args.reference)], args.out)


if __name__ == "__main__":
    main()
