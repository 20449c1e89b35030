"""Helpers for tests that run the real workflow on a tiny configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def shipped_config(name: str) -> dict:
    """config/<name> as the workflow reads it: merged over config/config.yaml (as Snakemake
    merges a --configfile), validated, defaults filled."""
    from advmim.config import read_yaml, validate_config
    from advmim.plan import merge_configs

    path = ROOT / "config" / name
    base = read_yaml(ROOT / "config" / "config.yaml")
    return validate_config(merge_configs(base, read_yaml(path) or {}), source=str(path))


def tiny_config(results_dir: Path, methods=("supervised_unet", "ctct", "advmim", "full_unet"),
                iterations: int = 3) -> dict:
    """The embedded default shrunk to seconds: 6 patients, 32 px, a few iterations."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["results_dir"] = str(results_dir)
    config["dataset"]["phantom"] = {"patients": 6, "seed": 0, "size": 48}
    config["dataset"]["split"] = {"val": 1, "test": 1, "seed": 0}
    config["labeled"] = [1, 2]
    config["seeds"] = [1337]
    config["methods"] = list(methods)
    config["training"].update(img_size=32, iterations=iterations, batch_labeled=2, batch_unlabeled=2,
                              checkpoint_every=2, device="cpu", threads=1)
    config["models"] = {
        "unet": {"channels": [4, 8, 16, 32, 64]},
        "swin_unet": {"embed_dim": 12, "depths": [1, 1, 1, 1], "num_heads": [1, 1, 2, 2],
                      "window_size": 4, "drop_path_rate": 0.0, "pretrained": None},
    }
    config["method_params"] = {"advmim": {"mask_block": 56}}  # 8 px at 32 px
    config.pop("ablations", None)
    return config


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, configfile: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the real workflow (this repo's Snakefile) in ``workdir``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
