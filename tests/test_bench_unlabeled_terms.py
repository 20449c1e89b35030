"""benchmarks/unlabeled_terms.py: the sensitivity measurement (each method on vs its unlabeled
terms off, paired over seeds, Holm-corrected). The smoke run checks the script end to end on tiny
networks; it measures nothing, so no Dice value is asserted."""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from advmim.config import load_config
from advmim.methods import get_method, method_card
from advmim.plan import merge_configs
from benchmarks.unlabeled_terms import (
    UNLABELED_OFF,
    design_floor,
    pre_registered_methods,
    seed_test,
)
from tests.test_methods_teacher import fixed_batch

REPO = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
UNLABELED_LOGGED = ("cons_weight", "consistency_weight", "cross_weight", "cross")


ISSUE_MINIMUM = ["mean_teacher", "cps", "ctct", "advmim"]  # issue 24: at least these
CONFIG = load_config(REPO / "config" / "config.yaml")


def test_methods_come_from_the_pre_registered_comparisons():
    default = pre_registered_methods(CONFIG)
    assert set(default) >= set(ISSUE_MINIMUM) and "supervised_unet" not in default
    assert default == [m for m in CONFIG["methods"] if m in default]  # in table order
    narrow = merge_configs(CONFIG, {"report": {"comparisons": [{"row": "advmim:S", "vs": "ctct:S"},
                                                               {"row": "cps", "vs": "supervised_unet"}]}})
    assert pre_registered_methods(narrow) == ["cps", "ctct", "advmim"]


def test_seed_tests_on_seed_level_means():
    on, off = [0.71, 0.69, 0.74, 0.70, 0.73, 0.72], [0.60, 0.62, 0.61, 0.63, 0.59, 0.64]
    p, why = seed_test(on, off, "wilcoxon")
    assert p == pytest.approx(2 / 2 ** 6) and why == ""  # all six the same sign: the exact floor
    p, why = seed_test(on[:3], off[:3], "wilcoxon")
    assert math.isnan(p) and "need 6" in why
    p, _ = seed_test(on, off, "t")
    assert 0 < p < 1e-3
    assert math.isnan(seed_test([0.5, 0.6], [0.4, 0.5], "t")[0])  # constant difference: no test


def test_design_floor_says_when_holm_cannot_pass():
    (line,) = design_floor("wilcoxon", 6, 12, 0.05)
    assert "CANNOT" in line and "0.375" in line and ">= 9 runs" in line
    assert "can show" in design_floor("wilcoxon", 10, 12, 0.05)[0]
    assert design_floor("t", 6, 12, 0.05) == []


def test_every_off_switch_is_valid():
    for name, off in UNLABELED_OFF.items():
        assert method_card(name).param_problems(off) == [], name


@pytest.mark.parametrize("name", ISSUE_MINIMUM)
def test_off_leaves_no_unlabeled_term_in_the_loss(name, phantom_data, tiny_settings):
    settings = tiny_settings(name, iterations=10)
    settings["method_params"].update(UNLABELED_OFF[name])
    m = get_method(name)(settings, CPU)
    m.train_mode()
    logged = m.train_step(fixed_batch(settings, phantom_data), 9)  # past every ramp's start
    assert [logged[k] for k in UNLABELED_LOGGED if k in logged] == [0.0]
    assert not [k for k in logged if k.startswith(("mask_u_", "adv_"))]
    assert logged["loss"] > 0


def test_smoke_run_prints_the_paired_holm_table(phantom_data, tmp_path):
    out = tmp_path / "sensitivity.md"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "unlabeled_terms.py"), "--smoke",
         "--methods", "mean_teacher", "--no-lower-bounds", "--data", str(phantom_data),
         "--work", str(tmp_path / "work"), "--out", str(out), "--jobs", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert text.strip() == done.stdout.strip()
    assert "over seeds [1337, 1338] (2 runs" in text and "### val split" in text
    (row,) = [line for line in text.splitlines() if line.startswith("| Mean Teacher |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:3] == ["C", "1"] and re.fullmatch(r"[+-]\d+\.\d\d ± \d+\.\d\d", cells[5])
    low, high = map(float, re.fullmatch(r"\[([+-]\d+\.\d\d), ([+-]\d+\.\d\d)\]", cells[6]).groups())
    assert low <= float(cells[5].split(" ± ")[0]) <= high  # the CI holds the mean difference
    assert cells[7].startswith("n/a (n too small") and cells[8:10] == ["n/a", "n/a"]  # 2 < 6 pairs
    assert "the smallest two-sided Wilcoxon p is 2/2^2" in text
    runs = sorted(p.relative_to(tmp_path / "work") for p in (tmp_path / "work").rglob("model.pt"))
    assert [p.parts[1:] for p in runs] == [
        (f"mean_teacher_{v}", "L1", f"seed{s}", "model.pt") for v in ("off", "on") for s in (1337, 1338)]
