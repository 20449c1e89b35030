"""`snakemake --config key=value` overrides of numbers, lists and mappings (Snakemake passes
strings inside lists and mappings): typed as a YAML config file would type them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from advmim.config import type_overrides, validate_config

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / ".test" / "config" / "config.yaml"


def test_strings_become_the_schemas_types_and_mappings_merge():
    config = yaml.safe_load(TINY.read_text())
    overrides = {"seeds": ["1337", "7"], "training": {"iterations": "100", "grad_clip": "null"},
                 "results_dir": 2024, "method_params": {"advmim": {"mask_ratio": "0.5"}},
                 "dataset": {"class_names": ["1", "2", "3"]}}  # fmt: skip
    type_overrides(config, overrides)
    assert config["seeds"] == [1337, 7]
    assert config["training"]["iterations"] == 100 and config["training"]["grad_clip"] is None
    assert config["training"]["lr"] == 0.01  # the other training keys stay
    assert config["results_dir"] == "2024" and config["dataset"]["class_names"] == ["1", "2", "3"]
    assert config["method_params"] == {"advmim": {"mask_ratio": 0.5}}
    validate_config(config)


def test_a_value_that_is_no_number_is_still_refused_by_name():
    config = yaml.safe_load(TINY.read_text())
    type_overrides(config, {"training": {"iterations": "many"}})
    try:
        validate_config(config)
    except Exception as exc:  # ConfigError
        assert "training/iterations: 'many' is not of type 'integer'" in str(exc)
    else:
        raise AssertionError("iterations: many was accepted")


def _dry_run(workdir: Path, *overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "snakemake"), "-n", "--directory",
                           str(workdir), "--configfile", str(TINY), "--config", *overrides],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip


def test_snakemake_config_overrides_of_numbers_and_lists(tmp_path):
    proc = _dry_run(tmp_path, "seeds=[1337]", 'training={"iterations": 100}')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "runs/phantom/supervised_unet/L2/seed1337/model.pt" in proc.stdout
    # typed, then validated: a number out of range, not "'0' is not of type 'integer'"
    proc = _dry_run(tmp_path, 'training={"iterations": 0}')
    assert proc.returncode != 0
    assert "training/iterations: 0 is less than the minimum of 1" in proc.stdout + proc.stderr
