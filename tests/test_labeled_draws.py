"""labeled_draws: per_seed (the embedded default) draws the labeled patients per training seed
(recorded with the run); fixed (the schema default, and ACDC's SSL4MIS lists) keeps the dataset's
labeled/<N>.list."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from advmim.config import run_settings
from advmim.data.slices import labeled_slice_names
from advmim.data.splits import read_list, slice_patient
from advmim.train.loop import DRAW_FILE, train

ROOT = Path(__file__).resolve().parents[1]


def _patients(slices):
    return list(dict.fromkeys(slice_patient(s) for s in slices))


def test_acdc_keeps_ssl4mis_lists_and_the_embedded_default_draws_per_seed():
    from advmim.schema import schema_default

    assert schema_default("labeled_draws") == "fixed"
    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert run_settings(base, "mean_teacher", 1, 1337)["labeled_draw_seed"] == 1337
    for name in ("acdc.yaml", "acdc_cpu.yaml", "promise12.yaml", "synapse.yaml"):
        config = {**base, **yaml.safe_load((ROOT / "config" / name).read_text())}
        assert "labeled_draw_seed" not in run_settings(config, "mean_teacher", 3, 1337), name


def test_per_seed_draw_is_deterministic_differs_across_seeds_and_is_recorded(
        phantom_data, tiny_settings, tmp_path):
    draws = {seed: _patients(labeled_slice_names(phantom_data, 2, seed)) for seed in range(5)}
    assert all(_patients(labeled_slice_names(phantom_data, 2, s)) == d for s, d in draws.items())
    assert len({tuple(d) for d in draws.values()}) > 1
    train_patients = _patients(read_list(phantom_data / "train_slices.list"))
    assert all(len(d) == 2 and set(d) <= set(train_patients) for d in draws.values())

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["labeled_draws"] = "per_seed"
    assert run_settings(config, "mean_teacher", 2, 3)["labeled_draw_seed"] == 3

    settings = {**tiny_settings("supervised_unet", labeled=2, seed=3, iterations=1), "labeled_draw_seed": 3}
    run = tmp_path / "r"
    train(settings, phantom_data, run, progress=False)
    assert json.loads((run / "config.json").read_text())["labeled_draw_seed"] == 3
    assert read_list(run / DRAW_FILE) == draws[3]
    fixed = tmp_path / "fixed"
    train(tiny_settings("supervised_unet", labeled=2, seed=3, iterations=1), phantom_data, fixed, progress=False)
    assert not (fixed / DRAW_FILE).exists()
