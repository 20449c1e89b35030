"""Real data in the default suite: the public SSL4MIS ACDC copy at ``../shared/data/ACDC``.

Skipped when that folder is absent. Reads it only (the session fixture in conftest.py checks that
the shared folder is unchanged): ``advmim prepare-ssl4mis --out`` writes its view in a temporary
folder, the real workflow (.test/config/real_acdc.yaml) trains supervised_unet, CTCT and AdvMIM
for a few dozen iterations at 32 px on SSL4MIS's 3 labeled patients and evaluates them on the
first 4 test volumes, and paper-mode metrics are compared with medpy on real label volumes.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.shared_data import SHARED_ACDC, changed_paths, tree_state
from tests.workflow_utils import ROOT, snakemake, write_config

needs_data = pytest.mark.skipif(
    not SHARED_ACDC.is_dir(), reason=f"real ACDC copy absent: no ../shared/data/ACDC ({SHARED_ACDC})"
)
ADVMIM = Path(sys.executable).parent / "advmim"
CONFIG = ROOT / ".test" / "config" / "real_acdc.yaml"
TEST_CASES = 4  # the first test volumes the workflow evaluates (patients 011 and 013, ED + ES)
ROWS = {"U-Net (labeled only)": ("supervised_unet", "C"), "CTCT (C)": ("ctct", "C"),
        "CTCT (S)": ("ctct", "S"), "AdvMIM (C)": ("advmim", "C"), "AdvMIM (S)": ("advmim", "S")}


def _read(path: Path) -> list[str]:
    return path.read_text().split()


def _patients(names: list[str]) -> list[str]:
    return list(dict.fromkeys(n.split("_")[0] for n in names))


@pytest.fixture(scope="module")
def view(tmp_path_factory) -> Path:
    """``advmim prepare-ssl4mis ../shared/data/ACDC --out VIEW --labeled 3 7`` (the real CLI)."""
    out = tmp_path_factory.mktemp("real_acdc") / "view"
    done = subprocess.run([str(ADVMIM), "prepare-ssl4mis", str(SHARED_ACDC), "--out", str(out),
                           "--labeled", "3", "7"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.slow
@needs_data
def test_prepare_gives_ssl4mis_labeled_lists(view):
    slices = _read(SHARED_ACDC / "train_slices.list")
    three, seven = _read(view / "labeled" / "3.list"), _read(view / "labeled" / "7.list")
    assert len(three) == 68 and _patients(three) == ["patient099", "patient038", "patient050"]
    assert three == slices[:68] and len(seven) == 136 and seven == slices[:136]
    assert len(_patients(seven)) == 7 and seven[:68] == three
    assert (view / "data").is_symlink() and (view / "data").resolve() == (SHARED_ACDC / "data").resolve()
    for name in ("train_slices", "val", "test"):
        assert _read(view / f"{name}.list") == _read(SHARED_ACDC / f"{name}.list")
    info = json.loads((view / "dataset.json").read_text())
    assert info["labeled"]["3"] == ["patient099", "patient038", "patient050"]
    assert len(info["patients"]) == 100  # 70 train + 10 val + 20 test


@pytest.fixture(scope="module")
def workflow(view, tmp_path_factory) -> Path:
    """The real workflow to the main table on a view of ``view`` that lists only the first
    TEST_CASES test volumes (and 2 val volumes); returns its results folder."""
    work = tmp_path_factory.mktemp("real_acdc_workflow")
    subset = work / "view"
    subset.mkdir()
    (subset / "data").symlink_to((view / "data").resolve(), target_is_directory=True)
    for name in ("train_slices", "train"):
        (subset / f"{name}.list").write_text((view / f"{name}.list").read_text())
    for name, keep in (("test", TEST_CASES), ("val", 2)):
        (subset / f"{name}.list").write_text("\n".join(_read(view / f"{name}.list")[:keep]) + "\n")
    config = yaml.safe_load(CONFIG.read_text())
    config["results_dir"] = str(work / "results")
    config["dataset"]["preprocessed_dir"] = str(subset)
    configfile = write_config(work / "real_acdc.yaml", config)
    done = snakemake(work, configfile, "--cores", "2", str(work / "results" / "tables" / "acdc.md"))
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "results"


def _finite_in_range(metric: str, value) -> bool:
    high = 1.0 if metric in ("dice", "jaccard") else math.inf
    return isinstance(value, float) and math.isfinite(value) and 0.0 <= value <= high


@pytest.mark.slow
@needs_data
def test_workflow_metrics_finite_on_the_chosen_test_volumes(workflow):
    cases = _read(SHARED_ACDC / "test.list")[:TEST_CASES]
    for method in ("supervised_unet", "ctct", "advmim"):
        result = json.loads((workflow / "metrics" / "acdc" / method / "L3" / "seed1337.json").read_text())
        assert (result["dataset"], result["labeled"], result["mode"]) == ("acdc", 3, "paper")
        expected = {n for row, (m, n) in ROWS.items() if m == method}
        assert set(result["networks"]) == expected
        for net in result["networks"].values():
            assert [v["case"] for v in net["per_volume"]] == cases
            for metric in ("dice", "jaccard", "hd95", "asd"):
                values = [v[metric][c] for v in net["per_volume"] for c in result["classes"]]
                values += list(net["mean"][metric].values())
                assert all(_finite_in_range(metric, x) for x in values), (method, metric, values)


@pytest.mark.slow
@needs_data
def test_workflow_table_has_every_row_and_the_published_columns(workflow):
    with open(workflow / "tables" / "acdc.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["class"] == "mean"]
    assert sorted(r["row"] for r in rows) == sorted(ROWS)
    with open(ROOT / "config" / "reference_results.csv", newline="") as f:
        refs = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))
                if r["dataset"] == "acdc" and r["labeled"] == "3"]
    shown = 0
    for row in rows:
        assert (row["method"], row["network"]) == ROWS[row["row"]] and row["labeled"] == "3"
        for metric in ("jaccard", "asd"):  # the optional columns: asked for (report.metrics) and carried
            assert _finite_in_range(metric, float(row[metric])), row
        for metric in ("dice", "hd95"):
            assert _finite_in_range(metric, float(row[metric])), row
            published = {float(v) for k, v in row.items()
                         if k.startswith("published_") and k.endswith(f"_{metric}") and v}
            for ref in refs:
                method, _, network = ref["method"].partition(":")
                if ref["metric"] == metric and method == row["method"] and network in ("", row["network"]):
                    assert float(ref["value"]) in published, (row["row"], ref)
                    shown += 1
    assert shown >= 3  # U-Net: UniMatch and AdaMix Dice, AdaMix HD95; CTCT (C): UniMatch Dice
    table = (workflow / "tables" / "acdc.md").read_text()
    assert re.search(r"published \\?\[1\\?\]", table) and "Iterations: 24 at 32 px" in table


@needs_data
@pytest.mark.parametrize("pair", [0, 1])
def test_paper_metrics_equal_medpy_on_real_volumes(pair):
    """Paper-mode Dice, Jaccard, HD95 and ASD of a real label volume (ES as the 'prediction' of
    ED: the same anatomy, really different) equal medpy's dc, jc, hd95, asd, per class."""
    from medpy.metric import binary

    from advmim.data.ssl4mis import read_h5_pair
    from advmim.metrics import evaluate_volume

    patient = _patients(_read(SHARED_ACDC / "test.list"))[pair]
    _, gt, _ = read_h5_pair(SHARED_ACDC / "data" / f"{patient}_frame01.h5")
    _, pred, _ = read_h5_pair(SHARED_ACDC / "data" / f"{patient}_frame02.h5")
    result = evaluate_volume(pred, gt, ["RV", "Myo", "LV"], "paper")
    for label, name in enumerate(["RV", "Myo", "LV"], start=1):
        p, g = pred == label, gt == label
        assert result["status"][name] == "ok" and 0 < result["dice"][name] < 1
        assert result["dice"][name] == binary.dc(p, g)
        assert result["jaccard"][name] == binary.jc(p, g)
        assert result["hd95"][name] == binary.hd95(p, g)
        assert result["asd"][name] == binary.asd(p, g)
    assert np.unique(gt).tolist() == [0, 1, 2, 3]


def test_shared_folder_snapshot_sees_every_kind_of_write(tmp_path):
    """The snapshot behind conftest's shared-folder check notices added, resized, touched and
    removed files."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.h5").write_bytes(b"12")
    before = tree_state(tmp_path)
    assert changed_paths(before, tree_state(tmp_path)) == []
    (tmp_path / "sub" / "a.h5").write_bytes(b"34")  # same size, new mtime
    st = (tmp_path / "sub" / "a.h5").stat()
    os.utime(tmp_path / "sub" / "a.h5", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert changed_paths(before, tree_state(tmp_path)) == ["sub/a.h5"]
    (tmp_path / "sub" / "a.h5").write_bytes(b"12345")
    (tmp_path / "b.list").write_text("x")
    assert {"sub/a.h5", "b.list", "."} <= set(changed_paths(before, tree_state(tmp_path)))
    (tmp_path / "b.list").unlink()
    (tmp_path / "sub" / "a.h5").unlink()
    assert "sub/a.h5" in changed_paths(before, tree_state(tmp_path))
