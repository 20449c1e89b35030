"""Outputs that must not or cannot be written (issue 15): refused before any work, one
``advmim <cmd>: error: <path>: <problem>`` line, exit 2, nothing left behind, no data lost.

Disk-full and read-only cases use real tmpfs mounts (root only; skipped otherwise).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advmim.cli import main
from tests.test_bad_inputs import _nifti, fails, untrained_model  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / ".test" / "config" / "config.yaml"


def _mount_tmpfs(path: Path, options: str) -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    path.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {proc.stderr.strip()}")
    return path


@pytest.fixture
def mounts():
    """``mount(path, options)`` mounts a tmpfs there; all are unmounted afterwards."""
    done: list[Path] = []

    def mount(path: Path, options: str) -> Path:
        done.append(_mount_tmpfs(path, options))
        return path

    yield mount
    for path in reversed(done):
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def metrics_file(untrained_model, phantom_data, tmp_path_factory) -> Path:  # noqa: F811
    out = tmp_path_factory.mktemp("metrics") / "seed0.json"
    assert main(["evaluate", "--model", str(untrained_model), "--data", str(phantom_data),
                 "--out", str(out)]) == 0
    return out


def _run_cli(*argv, timeout: int = 120) -> subprocess.CompletedProcess:
    """The CLI in a child process (a crash there, e.g. a segfault, cannot take pytest down)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "advmim", *map(str, argv)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def _one_error_line(proc: subprocess.CompletedProcess, command: str, *fragments: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    lines = [line for line in proc.stderr.splitlines() if line.startswith("advmim ")]
    assert len(lines) == 1 and lines[0].startswith(f"advmim {command}: error: "), proc.stderr
    assert lines[0] == proc.stderr.rstrip().splitlines()[-1] and "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _hidden(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if p.name.endswith(".tmp")]


# -------------------------------------------------------------- case 1: output is an input


def test_output_that_is_an_input_is_refused(untrained_model, phantom_data, metrics_file,  # noqa: F811
                                            tmp_path, capsys):
    model = tmp_path / "run" / "model.pt"
    model.parent.mkdir()
    shutil.copy(untrained_model, model)
    metrics = Path(shutil.copy(metrics_file, tmp_path / "m.json"))
    kept = {p: p.read_bytes() for p in (model, metrics)}
    fails(capsys, ["evaluate", "--model", model, "--data", phantom_data, "--out", model],
          str(model), "is also an input")
    fails(capsys, ["summarize", "--metrics", metrics, "--out", metrics], str(metrics), "is also an input")
    fails(capsys, ["table", "--config", TINY, "--metrics", metrics, "--out", tmp_path / "t.md",
                   "--stats-out", metrics, "--quiet"], str(metrics), "is also an input")  # fmt: skip
    csv = Path(shutil.copy(metrics_file, tmp_path / "t.csv"))  # table writes t.csv beside t.md
    kept[csv] = csv.read_bytes()
    fails(capsys, ["table", "--config", TINY, "--metrics", csv, "--out", tmp_path / "t.md"],
          str(csv), "is also an input")
    image = _nifti(tmp_path / "in.nii.gz", np.random.default_rng(0).random((8, 8, 2)))
    kept[image] = image.read_bytes()
    fails(capsys, ["predict", "--model", model, image, image], str(image), "is also an input")
    data = Path(shutil.copytree(phantom_data, tmp_path / "data"))  # the fixture stays intact
    kept[data / "test.list"] = (data / "test.list").read_bytes()
    fails(capsys, ["evaluate", "--model", model, "--data", data, "--out", data / "test.list"],
          str(data / "test.list"), "inside the input folder")
    assert {p: p.read_bytes() for p in kept} == kept
    assert not (tmp_path / "t.md").exists()


def test_convert_output_over_its_raw_input_is_refused(phantom_raw, tmp_path, capsys):
    raw = Path(shutil.copytree(phantom_raw, tmp_path / "raw" / "database"))
    before = sorted(p.relative_to(raw) for p in raw.rglob("*"))
    for out in (raw, raw.parent):
        fails(capsys, ["convert", "phantom", "--raw", raw, "--out", out, "--overwrite", "--val", "1",
                       "--test", "1", "--labeled", "1"], str(out))  # fmt: skip
    assert sorted(p.relative_to(raw) for p in raw.rglob("*")) == before


# ------------------------------------------- case 2: a non-empty folder this command did not write


def test_phantom_refuses_a_folder_of_other_data(tmp_path, capsys):
    real = tmp_path / "RAW" / "database" / "training" / "patient001"
    real.mkdir(parents=True)
    (real / "patient001_frame01.nii.gz").write_bytes(b"real data")
    (real / "patient001_frame07.nii.gz").write_bytes(b"real frame")
    fails(capsys, ["phantom", "--out", tmp_path / "RAW", "--patients", "2", "--size", "16",
                   "--slices", "1"], str(tmp_path / "RAW"), "not empty", "--overwrite")  # fmt: skip
    assert (real / "patient001_frame01.nii.gz").read_bytes() == b"real data"
    assert sorted(p.name for p in real.iterdir()) == ["patient001_frame01.nii.gz", "patient001_frame07.nii.gz"]
    assert not _hidden(tmp_path)


def test_phantom_replaces_its_own_output_whole(tmp_path):
    out = tmp_path / "RAW"
    args = ["phantom", "--out", str(out), "--size", "16", "--slices", "1"]
    assert main([*args, "--patients", "3"]) == 0
    assert main([*args, "--patients", "2"]) == 0  # its own output: replaced, nothing mixed in
    assert sorted(p.name for p in (out / "database" / "training").iterdir()) == ["patient001", "patient002"]
    other = tmp_path / "other"
    (other / "database" / "training" / "patient009").mkdir(parents=True)
    assert main(["phantom", "--out", str(other), "--patients", "1", "--size", "16", "--slices", "1",
                 "--overwrite"]) == 0
    assert sorted(p.name for p in (other / "database" / "training").iterdir()) == ["patient001"]
    assert not _hidden(tmp_path)


def test_convert_and_prepare_refuse_a_folder_of_other_data(phantom_raw, small_ssl4mis, tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "data").mkdir(parents=True)
    (out / "data" / "patient001_frame01.h5").write_bytes(b"precious")
    fails(capsys, ["convert", "phantom", "--raw", phantom_raw, "--out", out, "--val", "1", "--test", "1",
                   "--labeled", "1"], str(out), "not empty")  # fmt: skip
    fails(capsys, ["prepare-ssl4mis", small_ssl4mis, "--out", out, "--labeled", "3"], str(out), "not empty")
    assert (out / "data" / "patient001_frame01.h5").read_bytes() == b"precious"
    assert sorted(p.name for p in out.rglob("*")) == ["data", "patient001_frame01.h5"]


def test_train_refuses_a_folder_that_is_no_run_folder(tiny_settings, phantom_data, tmp_path, capsys):
    """Case 2's sibling: `train --out` over a folder of other files."""
    other = tmp_path / "results"
    other.mkdir()
    (other / "train_log.csv").write_text("mine\n")
    settings = json.dumps(tiny_settings("supervised_unet", iterations=2))
    fails(capsys, ["train", "--data", phantom_data, "--settings", settings, "--out", other],
          str(other), "not a run folder")
    assert sorted(p.name for p in other.iterdir()) == ["train_log.csv"]
    assert (other / "train_log.csv").read_text() == "mine\n"


@pytest.fixture(scope="module")
def small_ssl4mis(tmp_path_factory) -> Path:
    from tests.test_datasets_byod import write_ssl4mis_acdc

    return write_ssl4mis_acdc(tmp_path_factory.mktemp("ssl") / "ACDC", counts=[23, 23, 22, 2])


# -------------------------------------------------------- case 14: an output that is a folder


def test_output_file_that_is_a_folder_is_refused(untrained_model, phantom_data, metrics_file,  # noqa: F811
                                                 tmp_path, capsys):
    folder = tmp_path / "out.nii.gz"
    folder.mkdir()
    image = _nifti(tmp_path / "in.nii.gz", np.random.default_rng(0).random((8, 8, 2)))
    fails(capsys, ["predict", "--model", untrained_model, image, folder], str(folder), "is a folder")
    fails(capsys, ["evaluate", "--model", untrained_model, "--data", phantom_data, "--out", tmp_path],
          str(tmp_path), "is a folder")
    fails(capsys, ["summarize", "--metrics", metrics_file, "--out", tmp_path], str(tmp_path), "is a folder")
    assert list(folder.iterdir()) == []


# ------------------------------------------------------------ case 15: a read-only destination


def test_read_only_destination_is_refused_before_any_work(mounts, untrained_model, phantom_raw,  # noqa: F811
                                                           phantom_data, metrics_file, tmp_path, capsys):
    ro = mounts(tmp_path / "ro", "ro,size=1m")
    image = _nifti(tmp_path / "in.nii.gz", np.random.default_rng(0).random((8, 8, 2)))
    cases = {
        "predict": ["predict", "--model", untrained_model, image, ro / "o.nii.gz"],
        "evaluate": ["evaluate", "--model", untrained_model, "--data", phantom_data, "--out", ro / "m.json"],
        "table": ["table", "--config", TINY, "--metrics", metrics_file, "--out", ro / "t" / "t.md", "--quiet"],
        "convert": ["convert", "phantom", "--raw", phantom_raw, "--out", ro / "data", "--val", "1",
                    "--test", "1", "--labeled", "1"],
        "phantom": ["phantom", "--out", ro / "raw", "--patients", "1", "--size", "16", "--slices", "1"],
        "summarize": ["summarize", "--metrics", metrics_file, "--out", ro / "s.json"],
    }
    for argv in cases.values():
        fails(capsys, argv, str(ro), "not writable")
    assert list(ro.iterdir()) == []


def test_read_only_run_folder_is_refused_before_training(mounts, tiny_settings, phantom_data, tmp_path):
    ro = mounts(tmp_path / "ro", "ro,size=1m")
    settings = json.dumps(tiny_settings("supervised_unet", iterations=2))
    proc = _run_cli("train", "--data", phantom_data, "--settings", settings, "--out", ro / "run",
                    "--no-progress")
    _one_error_line(proc, "train", str(ro), "not writable")


def test_prepare_in_place_on_a_read_only_folder(mounts, small_ssl4mis, tmp_path, capsys):
    src = mounts(tmp_path / "ACDC", "size=4m")
    shutil.copytree(small_ssl4mis, src, dirs_exist_ok=True)
    subprocess.run(["mount", "-o", "remount,ro", str(src)], check=True)
    fails(capsys, ["prepare-ssl4mis", src, "--labeled", "3"], str(src), "not writable")


# -------------------------------------------------------------------- cases 7, 8: disk full


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_disk_full_during_convert(mounts, phantom_raw, phantom_data, tmp_path):
    small = mounts(tmp_path / "small", f"size={_tree_bytes(phantom_data) // 2}")
    proc = _run_cli("convert", "phantom", "--raw", phantom_raw, "--out", small / "data", "--val", "1",
                    "--test", "1", "--labeled", "1")
    _one_error_line(proc, "convert", str(small / "data"), "no space left on device")
    assert list(small.iterdir()) == []  # the staged folder is gone, the space is free again


def test_disk_full_while_writing_the_model(mounts, tiny_settings, phantom_data, tmp_path):
    settings = tiny_settings("supervised_unet", iterations=2, checkpoint_every=100)
    full = tmp_path / "full"
    assert main(["train", "--data", str(phantom_data), "--settings", json.dumps(settings),
                 "--out", str(full), "--no-progress"]) == 0
    model_bytes = (full / "model.pt").stat().st_size
    small = mounts(tmp_path / "small", f"size={model_bytes // 2}")
    proc = _run_cli("train", "--data", phantom_data, "--settings", json.dumps(settings),
                    "--out", small / "run", "--no-progress")
    _one_error_line(proc, "train", str(small / "run" / "model.pt"), "no space left on device")
    assert not (small / "run" / "model.pt").exists() and not _hidden(small)


def test_evaluate_keeps_an_existing_metrics_file_unless_told(metrics_file, untrained_model,  # noqa: F811
                                                             phantom_data, capsys):  # fmt: skip
    """A finished result is not replaced by a second `advmim evaluate --out` to the same path."""
    before = metrics_file.read_bytes()
    fails(capsys, ["evaluate", "--model", untrained_model, "--data", phantom_data, "--out", metrics_file],
          f"{metrics_file}: exists (a finished result); refusing to overwrite it (give --overwrite")
    assert metrics_file.read_bytes() == before
    assert main(["evaluate", "--model", str(untrained_model), "--data", str(phantom_data),
                 "--out", str(metrics_file), "--overwrite"]) == 0
    assert json.loads(metrics_file.read_text())["method"] == json.loads(before)["method"]
