"""The label-free Swin-UNet initialisation (``pretrained: mim``) against training from scratch.

Usage: python benchmarks/mim_init.py [--methods advmim ctct] [--seeds 1 2 3] [--split val]
       [--override JSON] [--jobs 2] [--work DIR] [--out FILE.md]

Pretrains one Swin-UNet encoder by masked image modelling on the default phantom's training
slices (``advmim pretrain-mim`` with the settings the workflow's rule pretrain_mim would use,
``advmim.config.pretrain_settings``), then trains every method with a Swin-UNet twice per
(labeled subset, seed): from that encoder ("mim") and from scratch (``pretrained: null``),
everything else as config/config.yaml, and scores both on ``--split`` (val: the choice of the
default was made there). Prints mean ± std Dice (%) per network and the difference. Runs are kept
under ``--work`` and skipped on a rerun (resumable). docs/embedded_default.md has the result.
"""

from __future__ import annotations

import argparse
import copy
import json
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


def pretrain(config: dict, settings: dict, data: Path, work: Path) -> Path:
    """The encoder the workflow would pretrain for ``settings``' Swin-UNet (once, kept)."""
    from advmim.config import pretrain_key, pretrain_settings

    pretraining = pretrain_settings(config, settings)
    out = work / f"mim_{pretrain_key(pretraining)}.pt"
    if not out.is_file():
        advmim_cli("pretrain-mim", "--data", str(data), "--settings", json.dumps(pretraining),
                   "--out", str(out), "--threads", "1", "--no-progress")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=["advmim", "ctct"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--split", choices=["val", "test"], default="val")
    add_override_option(ap)
    ap.add_argument("--jobs", type=int, default=2, help="runs at once (1 thread each)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "advmim-mim")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    from advmim.config import run_settings
    from advmim.methods import method_card

    config, runs_dir = bench_config(args.override, args.work)
    data = make_default_data(args.work, advmim_cli, config)
    jobs = []
    for method in args.methods:
        if "S" not in method_card(method).reported:
            ap.error(f"--methods: {method} has no Swin-UNet")
        for n in config["labeled"]:
            for seed in args.seeds:
                base = run_settings(config, method, n, seed)
                base["device"] = "cpu"
                for init in ("mim", "scratch"):
                    settings = copy.deepcopy(base)
                    swin = settings["models"]["swin_unet"]
                    swin["pretrained"] = (str(pretrain(config, base, data, args.work))
                                          if init == "mim" else None)
                    run = runs_dir / f"{method}_{init}" / f"L{n}" / f"seed{seed}"
                    jobs.append(((method, n, init), settings, run))
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = [(key, pool.submit(train_and_evaluate, s, data, run, (args.split,)))
                   for key, s, run in jobs]
        dice: dict = {}
        for (method, n, init), future in futures:
            for net, value in future.result()[args.split].items():
                dice.setdefault((method, net, n), {}).setdefault(init, []).append(value)

    lines = [f"Mean Dice % ({args.split} split), mean ± std over seeds {args.seeds}; mim: the "
             "Swin-UNet from the masked-image-modelling encoder; scratch: pretrained null.", "",
             "| row | labeled | mim | from scratch | mim - scratch |", "|---|---:|---:|---:|---:|"]
    for (method, net, n), runs in sorted(dice.items(), key=lambda kv: (kv[0][0], kv[0][2], kv[0][1] != "S")):
        mim, scratch = mean_sd(runs["mim"]), mean_sd(runs["scratch"])
        lines.append(f"| {method_card(method).display_name} ({net}) | {n} | {mim[0]:.1f} ± {mim[1]:.1f} "
                     f"| {scratch[0]:.1f} ± {scratch[1]:.1f} | {mim[0] - scratch[0]:+.1f} |")
    emit(lines, args.out)


if __name__ == "__main__":
    main()
