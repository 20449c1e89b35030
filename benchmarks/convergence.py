"""Convergence of the embedded default: Dice on the val split vs training length, over seeds.

Usage: python benchmarks/convergence.py [--fractions 0.25 0.5 1 2] [--seeds 1337 1338 1339]
       [--methods supervised_unet full_unet] [--split val] [--jobs 2] [--work DIR]
       [--override '{"training": {"lr": 0.1}}'] [--plot docs/img/embedded_convergence.png]
       [--out FILE.md]

Each (method, labeled subset, seed) is trained with ``fraction x training.iterations`` of
config/config.yaml (everything else as the default: the LR schedule decays over each run's own
length; ``--override``: a config fragment merged over it first, as ``--configfile`` would) and
evaluated on ``--split`` (val: the settings are chosen there, never on test).
Prints, and writes to ``--out``, mean ± std Dice (%) per length and the convergence check of
issue 12: the labeled-only U-Net at the smallest labeled subset should change by < 2 points
between 0.5x and 1x. Runs are kept under ``--work`` and skipped on a rerun (resumable).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from common import (  # noqa: E402
    add_override_option,
    advmim_cli,
    bench_config,
    emit,
    make_default_data,
    mean_sd,
    train_and_evaluate,
)


def convergence_lines(results: dict, smallest: int, base_its: int) -> list[str]:
    """The < 2-point check of the labeled-only U-Net at ``smallest`` labeled between 0.5x and 1x
    the default's iterations, and the first doubling of the measured lengths that passes."""
    lengths = sorted(its for (method, n, its) in results if (method, n) == ("supervised_unet", smallest))

    def change(short: int, long: int) -> float:
        return (mean_sd(results[("supervised_unet", smallest, long)])[0]
                - mean_sd(results[("supervised_unet", smallest, short)])[0])

    lines = []
    half = round(0.5 * base_its)
    if half in lengths and base_its in lengths:
        diff = change(half, base_its)
        verdict = "converged" if abs(diff) < 2 else "NOT converged"
        lines += ["", f"convergence check: labeled-only U-Net, {smallest} labeled, {half} -> {base_its} "
                      f"iterations: {diff:+.2f} points ({verdict}: goal < 2)"]
    for short, long in zip(lengths, lengths[1:], strict=False):
        if long == 2 * short and abs(diff := change(short, long)) < 2:
            lines.append(f"first doubling within 2 points: {short} -> {long} iterations: "
                         f"{diff:+.2f} (a default of {long} iterations would pass)")
            break
    return lines


def plot(curves: dict, path: Path, default_its: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for label, points in curves.items():
        its = sorted(points)
        means = [points[i][0] for i in its]
        sds = [points[i][1] for i in its]
        ax.errorbar(its, means, yerr=sds, marker="o", capsize=3, label=label)
    ax.axvline(default_its, color="grey", linestyle=":", label=f"default ({default_its})")
    ax.set_xscale("log", base=2)
    ticks = sorted({i for points in curves.values() for i in points})
    ax.set_xticks(ticks, [str(i) for i in ticks])
    ax.minorticks_off()
    ax.set_xlabel("training iterations (log scale)")
    ax.set_ylabel("mean Dice % (val)")
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fractions", nargs="+", type=float, default=[0.25, 0.5, 1.0, 2.0])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1337, 1338, 1339])
    ap.add_argument("--methods", nargs="+", default=["supervised_unet", "full_unet"])
    ap.add_argument("--split", choices=["val", "test"], default="val")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (1 thread each)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "advmim-convergence")
    add_override_option(ap)
    ap.add_argument("--plot", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from advmim.config import run_settings
    from advmim.methods import method_card

    config, runs_dir = bench_config(args.override, args.work)
    base_its = config["training"]["iterations"]
    data = make_default_data(args.work, advmim_cli, config)
    jobs = []
    for method in args.methods:
        labeled = [min(config["labeled"])] if method_card(method).all_labels else config["labeled"]
        for n in labeled:
            for fraction in args.fractions:
                its = max(1, round(fraction * base_its))
                for seed in args.seeds:
                    settings = run_settings(config, method, n, seed)
                    settings.update(iterations=its, device="cpu")
                    run = runs_dir / method / f"L{n}" / f"it{its}" / f"seed{seed}"
                    jobs.append(((method, n, its), settings, run))
    with ThreadPoolExecutor(args.jobs) as pool:
        done = [(key, pool.submit(train_and_evaluate, s, data, run, (args.split,))) for key, s, run in jobs]
        results: dict = {}
        for key, future in done:
            results.setdefault(key, []).append(future.result()[args.split]["C"])

    curves: dict = {}
    lines = [f"Mean Dice % ({args.split} split, network C), mean ± std over seeds {args.seeds}; "
             f"default iterations {base_its}.", "",
             "| method | labeled | iterations | Dice |", "|---|---:|---:|---:|"]
    for (method, n, its), values in results.items():
        m, sd = mean_sd(values)
        label = method_card(method).display_name + ("" if method_card(method).all_labels else f", {n} labeled")
        curves.setdefault(label, {})[its] = (m, sd)
        lines.append(f"| {method} | {n} | {its} | {m:.2f} ± {sd:.2f} |")
    lines += convergence_lines(results, min(config["labeled"]), base_its)
    emit(lines, args.out)
    if args.plot:
        plot(curves, args.plot, base_its)


if __name__ == "__main__":
    main()
