"""What each semi-supervised row's unlabeled term is worth on the embedded default.

Usage: python benchmarks/unlabeled_terms.py [--methods mean_teacher cps ...] [--seeds 1337 1338 1339]
       [--splits val test] [--jobs 2] [--work DIR] [--out FILE.md]

Every semi-supervised method of config/config.yaml is trained twice per (labeled subset, seed):
as configured ("on", the main table's run: same seed, same result on CPU) and with the weight of
its unlabeled term set to 0 ("off": the same network, the same 4 + 4 batches through it, the
same supervised loss, so only the unlabeled loss is removed). The labeled-only U-Net and
Swin-UNet are trained alongside as the lower bounds of the CNN and the transformer. Prints, and
writes to ``--out``, mean ± std Dice (%) per split and the paired differences over seeds (with
the Wilcoxon p over seeds from 6 seeds on):
``on - off`` (what the unlabeled term adds) and ``off - U-Net`` (what the method's network and
its batches change without that term). Nothing is chosen from these numbers; they explain rows
of the main table. Runs are kept under ``--work`` and skipped on a rerun (resumable).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from common import DEFAULT_CONFIG, advmim_cli, emit, make_default_data, mean_sd, train_and_evaluate  # noqa: E402

# The parameter that weights each method's unlabeled loss (its card, `CARDS` in its module); AdvMIM's
# terms are switched off one by one in the ablation table instead.
UNLABELED_WEIGHT = {
    "mean_teacher": "consistency", "uamt": "consistency", "entropy_min": "consistency",
    "ict": "consistency", "cct": "consistency", "cps": "consistency", "urpc": "consistency",
    "dct": "consistency", "ctct": "cross_weight",
}
LOWER_BOUNDS = {"C": "supervised_unet", "S": "supervised_swin"}


def cell(values: list[float]) -> str:
    return "{:.2f} ± {:.2f}".format(*mean_sd(values))


def paired(a: list[float], b: list[float]) -> str:
    """Mean ± std over seeds of a - b (seed by seed), in points, and the two-sided Wilcoxon
    p over seeds where there are enough pairs (advmim.report.stats, as the tables)."""
    from advmim.report.stats import paired_wilcoxon

    d = [100 * (x - y) for x, y in zip(a, b, strict=True)]
    text = f"{statistics.mean(d):+.2f} ± {statistics.stdev(d) if len(d) > 1 else 0.0:.2f}"
    p = paired_wilcoxon(a, b)["p_value"]
    return text if p != p else f"{text} (p {p:.2g})"  # p != p: NaN, too few pairs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=None,
                    help="default: every method of the config with an unlabeled weight")
    ap.add_argument("--seeds", nargs="+", type=int, default=None, help="default: the config's")
    ap.add_argument("--splits", nargs="+", choices=["val", "test"], default=["val", "test"])
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (1 thread each)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "advmim-unlabeled")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from advmim.config import load_config, run_settings
    from advmim.methods import method_card

    config = load_config(DEFAULT_CONFIG)
    methods = args.methods or [m for m in config["methods"] if m in UNLABELED_WEIGHT]
    unknown = [m for m in methods if m not in UNLABELED_WEIGHT]
    if unknown:
        ap.error(f"--methods: no unlabeled weight known for {', '.join(unknown)}; "
                 f"valid: {', '.join(UNLABELED_WEIGHT)}")
    seeds = args.seeds or config["seeds"]
    data = make_default_data(args.work, advmim_cli)

    jobs = []  # (row, labeled, seed, settings, run dir)
    for n in config["labeled"]:
        for seed in seeds:
            for row in [*LOWER_BOUNDS.values(), *[(m, v) for m in methods for v in ("on", "off")]]:
                method, variant = (row, "on") if isinstance(row, str) else row
                settings = run_settings(config, method, n, seed)
                settings["device"] = "cpu"
                if variant == "off":
                    settings["method_params"][UNLABELED_WEIGHT[method]] = 0.0
                run = args.work / "runs" / f"{method}_{variant}" / f"L{n}" / f"seed{seed}"
                jobs.append(((method, variant), n, seed, settings, run))
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [(key, n, pool.submit(train_and_evaluate, s, data, run, tuple(args.splits)))
                   for key, n, _, s, run in jobs]
        dice: dict = {}
        for key, n, future in futures:
            for split, networks in future.result().items():
                for net, value in networks.items():
                    dice.setdefault((split, n, net), {}).setdefault(key, []).append(value)

    lines = [f"Mean Dice % over seeds {seeds} (mean ± std; differences are paired by seed). "
             "on: as configured; off: its unlabeled weight 0; lower bound: the labeled-only "
             "network of the same kind (U-Net for C, Swin-UNet for S).", ""]
    for split in args.splits:
        lines += [f"### {split} split", "",
                  "| method | network | labeled | on | off | on - off | off - lower bound | "
                  "on - lower bound |", "|---|---|---:|---:|---:|---:|---:|---:|"]
        for method in methods:
            for net in method_card(method).reported:
                for n in config["labeled"]:
                    rows = dice[(split, n, net)]
                    on, off = rows[(method, "on")], rows[(method, "off")]
                    low = dice[(split, n, net)][(LOWER_BOUNDS[net], "on")]
                    lines.append(
                        f"| {method_card(method).display_name} | {net} | {n} | "
                        f"{cell(on)} | {cell(off)} | "
                        f"{paired(on, off)} | {paired(off, low)} | {paired(on, low)} |")
        for net, method in LOWER_BOUNDS.items():
            for n in config["labeled"]:
                values = dice[(split, n, net)][(method, "on")]
                lines.append(f"| {method_card(method).display_name} | {net} | {n} | "
                             f"{cell(values)} | | | | |")
        lines.append("")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
