"""Sensitivity of the embedded default: each method as published vs itself with its unlabeled terms off.

Usage: python benchmarks/unlabeled_terms.py [--methods M ...] [--runs 6]
       [--seeds ...] [--splits val] [--test wilcoxon|t] [--override JSON] [--no-lower-bounds]
       [--jobs 2] [--work DIR] [--out FILE.md] [--smoke] [--data DIR]

Every method of ``--methods`` (default: those the config's pre-registered comparisons,
``report.comparisons``, test; fixed before any run) is
trained twice per (labeled subset, seed): as configured ("on"; with the config's own seeds it is
the main table's run: same seed, same result on CPU) and with every loss term on unlabeled images
switched off ("off": the same networks, the same labeled + unlabeled batches through them, the
same supervised loss; only the unlabeled terms are gone, ``UNLABELED_OFF``). Each run is scored on
the val split (settings are chosen there, never on test). Per (method, network, labeled) it prints
the on - off difference paired by seed, its hierarchical bootstrap CI over seeds x patients (the
tables' ``advmim.report.stats``), the paired test on the seed-level means (``--test``: the
tables' two-sided Wilcoxon signed-rank, advmim.report.stats, from 6 non-zero pairs; or a paired
t-test), and the p-values Holm-corrected over every test of the table; then the smallest Holm p
the design can reach (the Wilcoxon's exact floor is 2 / 2^runs). The labeled-only U-Net and
Swin-UNet are trained alongside (unless ``--no-lower-bounds``) to say what each row adds over
its network. ``--override`` runs the same measurement for another design (a config fragment).
Runs are kept under ``--work`` and skipped on a rerun (resumable). ``--smoke``: 2 seeds, 4
iterations, tiny networks, the smallest labeled subset: checks the script, measures nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
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
    metrics_file,
    train_and_evaluate,
)

MIN_RUNS = 6
# What switches off every loss term on unlabeled images (each method's card): the ramped
# weight of the baselines; AdvMIM's cross teaching, masked unlabeled CE and adversarial terms
# (its discriminators see masked unlabeled maps), keeping its masked labeled term.
_WEIGHT_OFF = {"consistency": 0.0}
UNLABELED_OFF = {
    "mean_teacher": _WEIGHT_OFF, "uamt": _WEIGHT_OFF, "entropy_min": _WEIGHT_OFF,
    "ict": _WEIGHT_OFF, "cct": _WEIGHT_OFF, "cps": _WEIGHT_OFF, "urpc": _WEIGHT_OFF,
    "dct": _WEIGHT_OFF, "ctct": {"cross_weight": 0.0},
    "advmim": {"cross_weight": 0.0, "masked_unlabeled": False, "adversarial": False},
}
LOWER_BOUNDS = {"C": "supervised_unet", "S": "supervised_swin"}
TESTS = {"wilcoxon": "two-sided Wilcoxon signed-rank", "t": "two-sided paired t-test"}
SMOKE = {"training": {"iterations": 4, "batch_labeled": 2, "batch_unlabeled": 2},
         "models": {"unet": {"channels": [4, 8, 16, 32, 64]},
                    "swin_unet": {"embed_dim": 12, "num_heads": [1, 2, 2]},
                    "discriminator": {"base": 4}}}


def cell(values: list[float]) -> str:
    return "{:.2f} ± {:.2f}".format(*mean_sd(values))


def difference(a: list[float], b: list[float]) -> str:
    """Mean ± std over seeds of a - b (seed by seed), in points."""
    d = [100 * (x - y) for x, y in zip(a, b, strict=True)]
    return f"{statistics.mean(d):+.2f} ± {statistics.stdev(d) if len(d) > 1 else 0.0:.2f}"


def seed_test(on: list[float], off: list[float], test: str) -> tuple[float, str]:
    """(two-sided p, why there is none) of the paired test over the seed-level means."""
    if test == "wilcoxon":
        from advmim.report.stats import MIN_PAIRS, paired_wilcoxon

        result = paired_wilcoxon(on, off, MIN_PAIRS)
        return result["p_value"], result["note"]
    from scipy.stats import ttest_rel

    d = [x - y for x, y in zip(on, off, strict=True)]
    if len(d) < 2 or len(set(d)) == 1:
        return math.nan, f"no spread in {len(d)} difference(s)"
    return float(ttest_rel(on, off).pvalue), ""


def pre_registered_methods(config: dict) -> list[str]:
    """The methods the config's pre-registered comparisons (``report.comparisons``, groups
    expanded over its ``methods``) test, on either side, that have unlabeled terms."""
    from advmim.methods import method_card
    from advmim.report.stats import comparison_pairs

    rows = [(m, None, net) for m in config["methods"] for net in method_card(m).reported]
    pairs, _ = comparison_pairs(config, rows)
    named = {pair[side][0] for pair in pairs for side in ("row", "vs")}
    return [m for m in config["methods"] if m in named and m in UNLABELED_OFF]


def patient_differences(runs: dict, method: str, net: str, n: int, split: str, seeds: list[int]):
    """seeds x patients array of on - off Dice (points), each patient's volumes averaged (the
    tables' patient frame, advmim.report.stats.patient_frame)."""
    import numpy as np

    from advmim.report.collect import collect_volumes
    from advmim.report.stats import patient_frame

    def per_patient(variant: str, seed: int):
        frame = patient_frame(collect_volumes([metrics_file(runs[(method, variant, n, seed)], split)]))
        return frame[frame["network"] == net].set_index("patient")["dice"].sort_index()

    rows = []
    for seed in seeds:
        on, off = per_patient("on", seed), per_patient("off", seed)
        rows.append(100 * (on - off.reindex(on.index)).to_numpy())
    return np.array(rows)


def patient_ci(runs: dict, row: tuple, split: str, seeds: list[int], report: dict, alpha: float) -> str:
    """The (1 - alpha) hierarchical bootstrap CI (seeds, then patients) of the on - off mean."""
    from advmim.report.stats import hierarchical_bootstrap

    method, net, n = row
    low, high = hierarchical_bootstrap(patient_differences(runs, method, net, n, split, seeds),
                                       report["resamples"], report["bootstrap_seed"], 1 - alpha)
    return f"[{low:+.2f}, {high:+.2f}]"


def design_floor(test: str, runs: int, tests: int, alpha: float) -> list[str]:
    """What the design can reach at best: the exact Wilcoxon floor times the Holm factor."""
    if test != "wilcoxon" or tests == 0:
        return []
    floor = 2 / 2 ** runs
    needed = next(n for n in range(1, 64) if tests * 2 / 2 ** n < alpha)
    verdict = "can" if tests * floor < alpha else "CANNOT"
    return [f"design: {runs} runs, {tests} tests: the smallest two-sided Wilcoxon p is 2/2^{runs} = "
            f"{floor:.3g}, the smallest Holm p {min(1.0, tests * floor):.3g}, so this design "
            f"{verdict} show sensitivity at alpha {alpha} (it needs >= {needed} runs, or fewer tests)"]


def plan_runs(config: dict, methods: list[str], seeds: list[int], labeled: list[int],
              lower_bounds: bool, runs_dir: Path) -> list[tuple]:
    """(key, labeled, seed, settings, run folder) per training run; key = (method, "on" | "off")."""
    from advmim.config import run_settings

    rows = [(m, "on") for m in LOWER_BOUNDS.values()] if lower_bounds else []
    rows += [(m, v) for m in methods for v in ("on", "off")]
    jobs = []
    for n in labeled:
        for seed in seeds:
            for method, variant in rows:
                settings = run_settings(config, method, n, seed)
                settings["device"] = "cpu"
                if variant == "off":
                    settings["method_params"].update(UNLABELED_OFF[method])
                run = runs_dir / f"{method}_{variant}" / f"L{n}" / f"seed{seed}"
                jobs.append(((method, variant), n, seed, settings, run))
    return jobs


def table(dice: dict, runs: dict, split: str, methods: list[str], labeled: list[int], seeds: list[int],
          test: str, report: dict, alpha: float) -> list[str]:
    """The split's on / off table with the paired tests, Holm-corrected over the whole table."""
    from advmim.methods import method_card
    from advmim.report.stats import holm

    rows = [(m, net, n) for m in methods for net in method_card(m).reported for n in labeled]
    tests = [seed_test(dice[(split, n, net)][(m, "on")], dice[(split, n, net)][(m, "off")], test)
             for m, net, n in rows]
    adjusted = holm([p for p, _ in tests])
    lines = [f"### {split} split", "",
             f"| method | network | labeled | on | off | on - off | {1 - alpha:.0%} CI (seeds x patients) "
             f"| p ({test}) | Holm p | sensitive (Holm p < {alpha}) | on - lower bound | off - lower bound |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for (method, net, n), (p, why), p_holm in zip(rows, tests, adjusted, strict=True):
        cells = dice[(split, n, net)]
        on, off = cells[(method, "on")], cells[(method, "off")]
        low = cells.get((LOWER_BOUNDS[net], "on"))
        shown = f"n/a ({why})" if math.isnan(p) else f"{p:.3g}"
        holm_shown = "n/a" if math.isnan(p_holm) else f"{p_holm:.3g}"
        sensitive = "n/a" if math.isnan(p_holm) else ("yes" if p_holm < alpha else "no")
        lines.append(f"| {method_card(method).display_name} | {net} | {n} | {cell(on)} | {cell(off)} "
                     f"| {difference(on, off)} | {patient_ci(runs, (method, net, n), split, seeds, report, alpha)} | {shown} | {holm_shown} | {sensitive} | "
                     f"{difference(on, low) if low else '—'} | {difference(off, low) if low else '—'} |")
    return [*lines, "", *design_floor(test, len(seeds), len(rows), alpha), ""]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=None,
                    help="default: the methods of the config's report.comparisons that have "
                         "unlabeled terms (the default config: every semi-supervised row and AdvMIM)")
    ap.add_argument("--runs", type=int, default=MIN_RUNS,
                    help="seeds: this many from the config's first seed (its own runs first)")
    ap.add_argument("--seeds", nargs="+", type=int, default=None, help="explicit seeds (over --runs)")
    ap.add_argument("--splits", nargs="+", choices=["val", "test"], default=["val"])
    ap.add_argument("--test", choices=list(TESTS), default="wilcoxon",
                    help="paired test on the seed-level means (wilcoxon: the tables' seed test)")
    ap.add_argument("--alpha", type=float, default=None, help="default: report.alpha, else 0.05")
    ap.add_argument("--no-lower-bounds", action="store_true",
                    help="do not train the labeled-only U-Net / Swin-UNet")
    add_override_option(ap)
    ap.add_argument("--data", type=Path, default=None,
                    help="an existing converted dataset with the config's labeled lists "
                         "(default: the config's phantom, generated under --work)")
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (1 thread each)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "advmim-unlabeled")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--smoke", action="store_true",
                    help="2 seeds, 4 iterations, tiny networks, smallest labeled subset")
    args = ap.parse_args(argv)

    unknown = [m for m in args.methods or [] if m not in UNLABELED_OFF]
    if unknown:
        ap.error(f"--methods: no unlabeled terms known for {', '.join(unknown)}; "
                 f"valid: {', '.join(UNLABELED_OFF)}")
    override = args.override
    if args.smoke:
        from advmim.plan import merge_configs

        override = json.dumps(merge_configs(SMOKE, json.loads(override or "{}")), sort_keys=True)
    config, runs_dir = bench_config(override, args.work)
    methods = args.methods or pre_registered_methods(config)
    if not methods:
        ap.error("no --methods, and report.comparisons names no method with unlabeled terms")
    seeds = args.seeds or [config["seeds"][0] + i for i in range(2 if args.smoke else args.runs)]
    labeled = [min(config["labeled"])] if args.smoke else config["labeled"]
    alpha = args.alpha or config["report"]["alpha"]
    data = args.data or make_default_data(args.work, advmim_cli, config)

    jobs = plan_runs(config, methods, seeds, labeled, not args.no_lower_bounds, runs_dir)
    runs = {(*key, n, seed): run for key, n, seed, _, run in jobs}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [(key, n, pool.submit(train_and_evaluate, s, data, run, tuple(args.splits)))
                   for key, n, _, s, run in jobs]
        dice: dict = {}
        for key, n, future in futures:
            for split, networks in future.result().items():
                for net, value in networks.items():
                    dice.setdefault((split, n, net), {}).setdefault(key, []).append(value)

    lines = [f"Mean Dice % over seeds {seeds} ({len(seeds)} runs; mean ± std; differences paired by "
             f"seed). on: as configured{' (+ --override)' if args.override else ''}"
             f"{' (--smoke)' if args.smoke else ''}; off: its unlabeled terms off; test: "
             f"{TESTS[args.test]} over the seed-level means, Holm over the table's tests; CI: "
             "hierarchical bootstrap of the mean on - off (resampling seeds, then patients, ED and "
             "ES averaged; report.resamples, report.bootstrap_seed); lower "
             "bound: the labeled-only network of the same kind (U-Net for C, Swin-UNet for S).", ""]
    for split in args.splits:
        lines += table(dice, runs, split, methods, labeled, seeds, args.test, config["report"], alpha)
    emit(lines, args.out)


if __name__ == "__main__":
    main()
