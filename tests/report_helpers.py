"""Synthetic metrics JSONs for the report tests (known per-volume Dice, no training)."""

from __future__ import annotations

from pathlib import Path

from advmim.io import write_json

CLASSES = ["RV", "Myo", "LV"]


def write_metrics(folder: Path, method: str, labeled: int, seed: int, networks: dict[str, list[float]],
                  dataset: str = "phantom", variant: str | None = None) -> Path:
    """One metrics JSON; ``networks`` maps a network to per-case Dice (same for every class)."""
    nets = {}
    for key, dice in networks.items():
        per_volume = [{"case": f"patient{i:03d}_frame01", "dice": dict.fromkeys(CLASSES, d),
                       "hd95": dict.fromkeys(CLASSES, 10 * (1 - d)),
                       "status": dict.fromkeys(CLASSES, "ok")} for i, d in enumerate(dice)]
        mean = sum(dice) / len(dice)
        nets[key] = {"per_volume": per_volume,
                     "mean": {"dice": {**dict.fromkeys(CLASSES, mean), "mean": mean},
                              "hd95": {**dict.fromkeys(CLASSES, 10 * (1 - mean)), "mean": 10 * (1 - mean)}}}
    result = {"dataset": dataset, "method": method, "variant": variant, "labeled": labeled, "seed": seed,
              "mode": "paper", "classes": CLASSES, "iterations": 5, "networks": nets}
    path = folder / f"{variant or method}_L{labeled}_s{seed}.json"
    write_json(path, result)
    return path


def study(folder: Path, seeds=(0,), n_cases: int = 8) -> list[Path]:
    """Main-table metrics: AdvMIM (S) better than CTCT by known per-case amounts at 2 labeled."""
    base = [0.50 + 0.03 * i for i in range(n_cases)]
    files = []
    for seed in seeds:
        shift = 0.01 * seed
        files += [
            write_metrics(folder, "supervised_unet", 2, seed, {"C": [d - 0.2 + shift for d in base]}),
            write_metrics(folder, "ctct", 2, seed, {"S": [d - 0.05 + shift for d in base],
                                                    "C": [d - 0.1 + shift for d in base]}),
            write_metrics(folder, "advmim", 2, seed, {"S": [d + 0.01 * (i + 1) + shift for i, d in enumerate(base)],
                                                      "C": [d - 0.08 + shift for d in base]}),
            write_metrics(folder, "full_unet", 2, seed, {"C": [0.99] * n_cases}),
        ]
    return files
