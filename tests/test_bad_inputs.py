"""Bad inputs end to end through the CLI: exit status 2, the file named, no complete output.

Complements tests/test_preprocess.py (ACDC-layout conversion, via the API), test_download.py
(downloads and zips) and test_metrics.py (`advmim metrics`). docs/bad_inputs.md lists them all.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import nibabel as nib
import numpy as np
import pytest
import yaml

from advmim.cli import main
from tests.test_datasets_byod import write_promise12, write_ssl4mis_acdc, write_synapse

ROOT = Path(__file__).resolve().parents[1]


def fails(capsys, argv: list, *fragments: str) -> str:
    """Run the CLI, expect exit status 2 and every fragment in stderr."""
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err, err
    return err


# ------------------------------------------------------------------ convert (ACDC raw layout)


@pytest.mark.parametrize("corrupt", ["truncated", "no_info"])
def test_convert_cli_bad_raw_patient(phantom_raw, tmp_path, capsys, corrupt):
    raw = Path(shutil.copytree(phantom_raw, tmp_path / "raw"))
    patient = raw / "training" / "patient002"
    if corrupt == "truncated":
        path = patient / "patient002_frame01.nii.gz"
        path.write_bytes(path.read_bytes()[:300])
        problem = "cannot read NIfTI"
    else:
        path = patient / "Info.cfg"
        path.unlink()
        problem = "Info.cfg not found"
    out = tmp_path / "out"
    fails(capsys, ["convert", "phantom", "--raw", raw, "--out", out, "--val", "1", "--test", "1",
                   "--labeled", "1"], str(path), problem)  # fmt: skip
    assert not (out / "dataset.json").exists()


def test_download_cli_corrupt_zip(tmp_path, capsys):
    bad = tmp_path / "acdc.zip"
    bad.write_bytes(b"PK\x03\x04 this is no zip archive" * 10)
    fails(capsys, ["download", "acdc", "--zip", bad, "--out", tmp_path / "raw"], str(bad), "zip")
    assert not (tmp_path / "raw" / "database").exists()


# ------------------------------------------------------------------------- prepare-ssl4mis


@pytest.fixture(scope="module")
def small_ssl4mis(tmp_path_factory) -> Path:
    """3 + 1 training patients (68 + 2 slices): enough for labeled 3."""
    return write_ssl4mis_acdc(tmp_path_factory.mktemp("ssl") / "ACDC", counts=[23, 23, 22, 2])


def _set(path: Path, key: str, value: np.ndarray) -> None:
    with h5py.File(path, "r+") as f:
        del f[key]
        f.create_dataset(key, data=value)


def _drop(path: Path, key: str) -> None:
    with h5py.File(path, "r+") as f:
        del f[key]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


CASES = {  # name: (change the folder, file that must be named, phrase)
    "truncated_slice": (lambda d: _truncate(d / "data/slices/patient038_frame01_slice_2.h5"),
                        "patient038_frame01_slice_2.h5", "cannot read h5"),
    "label_out_of_range": (lambda d: _set(d / "data/patient011_frame02.h5", "label",
                                          np.full((3, 8, 8), 4, np.uint8)),
                           "patient011_frame02.h5", "[4] outside 0..3"),
    "shape_mismatch": (lambda d: _set(d / "data/patient028_frame01.h5", "label",
                                      np.zeros((3, 8, 7), np.uint8)),
                       "patient028_frame01.h5", "differs from image shape"),
    "nan_image": (lambda d: _set(d / "data/slices/patient099_frame01_slice_0.h5", "image",
                                 np.full((8, 8), np.nan)),
                  "patient099_frame01_slice_0.h5", "NaN"),
    "constant_volume": (lambda d: _set(d / "data/patient011_frame01.h5", "image", np.zeros((3, 8, 8))),
                        "patient011_frame01.h5", "constant"),
    "missing_dataset": (lambda d: _drop(d / "data/patient011_frame01.h5", "label"),
                        "patient011_frame01.h5", "missing dataset(s) label"),
    "missing_volume": (lambda d: (d / "data/patient028_frame02.h5").unlink(),
                       "val.list", "patient028_frame02"),
    "no_data_folder": (lambda d: shutil.rmtree(d / "data"), "ACDC", "no data/"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_prepare_ssl4mis_bad_folder(small_ssl4mis, tmp_path, capsys, case):
    change, named, phrase = CASES[case]
    src = Path(shutil.copytree(small_ssl4mis, tmp_path / "ACDC"))
    change(src)
    fails(capsys, ["prepare-ssl4mis", src, "--labeled", "3"], named, phrase)
    assert not (src / "dataset.json").exists() and not (src / "labeled").exists()


def test_prepare_ssl4mis_too_few_patients(small_ssl4mis, capsys):
    fails(capsys, ["prepare-ssl4mis", small_ssl4mis, "--labeled", "7"], "train_slices.list",
          "7 labeled patients asked but only 4")  # fmt: skip


# ---------------------------------------------------------------------- Synapse, PROMISE12


@pytest.fixture(scope="module")
def synapse_raw(tmp_path_factory) -> Path:
    return write_synapse(tmp_path_factory.mktemp("syn") / "Synapse", train_cases=(5, 6), slices=2, size=8)


@pytest.mark.parametrize("case", ["truncated_npz", "hu_not_scaled", "label_9", "missing_test_volume"])
def test_synapse_bad_inputs(synapse_raw, tmp_path, capsys, case):
    raw = Path(shutil.copytree(synapse_raw, tmp_path / "Synapse"))
    npz = raw / "train_npz" / "case0006_slice001.npz"
    if case == "truncated_npz":
        _truncate(npz)
        named, phrase = npz, "cannot read npz"
    elif case in ("hu_not_scaled", "label_9"):
        image, label = np.full((8, 8), 0.5, np.float32), np.zeros((8, 8), np.float32)
        if case == "hu_not_scaled":
            image[0, 0] = 275.0
        else:
            label[0, 0] = 9
        np.savez(npz, image=image, label=label)
        named, phrase = npz, "[-125, 275] HU" if case == "hu_not_scaled" else "[9] outside 0..8"
    else:
        (raw / "test_vol_h5" / "case0035.npy.h5").unlink()
        named, phrase = raw / "test_vol_h5", "case0035.npy.h5 missing"
    out = tmp_path / "out"
    fails(capsys, ["convert", "synapse", "--raw", raw, "--out", out], str(named), phrase)
    assert not (out / "dataset.json").exists()


def test_promise12_bad_inputs(tmp_path, capsys):
    raw = write_promise12(tmp_path / "P12", cases=4, shape=(3, 8, 8))
    (raw / "Case02.raw").unlink()
    fails(capsys, ["convert", "promise12", "--raw", raw, "--out", tmp_path / "o", "--val", "1",
                   "--test", "1", "--labeled", "1"], "Case02.mhd", "cannot read MetaImage")  # fmt: skip
    fails(capsys, ["convert", "promise12", "--raw", tmp_path / "none", "--out", tmp_path / "o"],
          "none", "promise12.grand-challenge.org")  # fmt: skip
    assert not (tmp_path / "o" / "dataset.json").exists()


# --------------------------------------------------------------------------------- predict


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory) -> Path:
    """A model.pt with a random 32 px U-Net (predict's input checks do not need a trained one)."""
    from advmim.config import run_settings
    from advmim.models import build_model
    from advmim.train.checkpoint import save_checkpoint

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["training"]["img_size"] = 32
    config["models"] = {"unet": {"channels": [4, 8, 16, 32, 64]}}
    settings = run_settings(config, "supervised_unet", 1, 0)
    net = build_model("unet", 4, 32, channels=[4, 8, 16, 32, 64])
    path = tmp_path_factory.mktemp("model") / "model.pt"
    save_checkpoint(path, {"settings": settings, "nets": {"C": net.state_dict()}})
    return path


def _nifti(path: Path, data: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(data, np.diag([1.5, 1.5, 5.0, 1.0])), path)
    return path


def test_predict_good_input_then_bad_inputs(untrained_model, tmp_path, capsys):
    rng = np.random.default_rng(0)
    good = _nifti(tmp_path / "good.nii.gz", rng.random((20, 24, 3)).astype(np.float32))
    out = tmp_path / "out.nii.gz"
    assert main(["predict", "--model", str(untrained_model), str(good), str(out)]) == 0
    out.unlink()
    nan = rng.random((20, 24, 3)).astype(np.float32)
    nan[1, 1, 1] = np.nan
    truncated = tmp_path / "truncated.nii.gz"
    truncated.write_bytes(good.read_bytes()[:200])
    not_gzip = tmp_path / "plain.nii.gz"
    not_gzip.write_bytes(gzip.compress(b"no header here" * 30))
    bad = {
        _nifti(tmp_path / "flat.nii.gz", rng.random((20, 24)).astype(np.float32)): "expected a 3D volume",
        _nifti(tmp_path / "nan.nii.gz", nan): "NaN",
        _nifti(tmp_path / "empty.nii.gz", np.zeros((20, 24, 3), np.float32)): "constant",
        _nifti(tmp_path / "complex.nii.gz", np.ones((4, 4, 2), np.complex64)): "not a real number type",
        truncated: "cannot read NIfTI",
        not_gzip: "cannot read NIfTI",
        tmp_path / "missing.nii.gz": "file not found",
    }
    for path, phrase in bad.items():
        fails(capsys, ["predict", "--model", untrained_model, path, out], str(path), phrase)
        assert not out.exists() and not list(tmp_path.glob(".out.nii.gz*"))
    fails(capsys, ["predict", "--model", untrained_model, good, tmp_path / "out.png"], "out.png", ".nii")
    broken = tmp_path / "model.pt"
    broken.write_bytes(untrained_model.read_bytes()[:100])
    fails(capsys, ["predict", "--model", broken, good, out], str(broken), "cannot read checkpoint")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    fails(capsys, ["predict", "--model", untrained_model, "--input-dir", empty_dir, "--output-dir",
                   tmp_path / "o"], str(empty_dir), "no .nii")  # fmt: skip


def test_corrupt_zip_member_is_named(tmp_path, capsys):
    """A zip whose directory is fine but whose member data is damaged (bad CRC)."""
    path = tmp_path / "acdc.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("database/training/patient001/Info.cfg", "ED: 1\nES: 2\n" * 50)
    data = bytearray(path.read_bytes())
    start = data.index(b"ED: 1")
    data[start : start + 5] = b"XXXXX"
    path.write_bytes(bytes(data))
    fails(capsys, ["download", "acdc", "--zip", path, "--out", tmp_path / "raw"], str(path), "corrupt zip")
    assert not (tmp_path / "raw" / "database").exists()


def test_synapse_slice_gap_and_prepare_list_conflict(synapse_raw, small_ssl4mis, tmp_path, capsys):
    raw = Path(shutil.copytree(synapse_raw, tmp_path / "Synapse"))
    (raw / "train_npz" / "case0005_slice000.npz").unlink()
    fails(capsys, ["convert", "synapse", "--raw", raw, "--out", tmp_path / "o"],
          str(raw / "train_npz"), "case0005: slice file(s) [0] missing")  # fmt: skip
    src = Path(shutil.copytree(small_ssl4mis, tmp_path / "ACDC"))
    (src / "labeled").mkdir()
    (src / "labeled" / "3.list").write_text("patient099_frame01_slice_0\n")
    fails(capsys, ["prepare-ssl4mis", src, "--labeled", "3"], str(src / "labeled" / "3.list"),
          "already exists with different content")  # fmt: skip
    assert not (src / "dataset.json").exists()


def test_predict_multi_network_run_needs_network(untrained_model, tmp_path, capsys):
    import torch

    from advmim.models import build_model
    from advmim.train.checkpoint import save_checkpoint

    state = torch.load(untrained_model, weights_only=False)
    swin = {"embed_dim": 12, "depths": [1, 1, 1, 1], "num_heads": [1, 1, 2, 2], "window_size": 4}
    state["settings"]["models"]["swin_unet"] = swin
    state["nets"]["S"] = build_model("swin_unet", 4, 32, **swin).state_dict()
    both = tmp_path / "both.pt"
    save_checkpoint(both, state)
    good = _nifti(tmp_path / "good.nii.gz", np.random.default_rng(1).random((20, 24, 3)).astype(np.float32))
    fails(capsys, ["predict", "--model", both, good, tmp_path / "o.nii.gz"], "networks C, S", "--network")
    assert main(["predict", "--model", str(both), str(good), str(tmp_path / "o.nii.gz"), "--network", "S"]) == 0


# ------------------------------------------------------------------ issue 15: more bad inputs


def _tiny_settings(**training) -> str:
    from advmim.config import run_settings
    from tests.workflow_utils import tiny_config

    settings = run_settings(tiny_config(Path("results"), methods=("supervised_unet",)),
                            "supervised_unet", 1, 0)
    settings.update(training)
    return json.dumps(settings)


def test_train_refuses_incomplete_settings_and_no_iterations(phantom_data, tmp_path, capsys):
    """Cases 13 and 3: settings without keys, or < 1 iteration, fail before any work."""
    run = tmp_path / "run"
    fails(capsys, ["train", "--data", phantom_data, "--settings", "{}", "--out", run],
          "run settings", "missing key(s)", "seed")  # fmt: skip
    fails(capsys, ["train", "--data", phantom_data, "--settings", "[1]", "--out", run],
          "run settings", "expected a JSON object")  # fmt: skip
    fails(capsys, ["train", "--data", phantom_data, "--settings", _tiny_settings(iterations=-5),
                   "--out", run], "iterations: -5 is less than the minimum of 1")  # fmt: skip
    assert not run.exists()


def test_raw_folder_with_a_non_utf8_patient_name(phantom_raw, tmp_path, capsys):
    """Case 5: the folder used to be skipped silently (5 of 6 patients converted)."""
    raw = Path(shutil.copytree(phantom_raw, tmp_path / "raw"))
    training = raw / "training"
    os.rename(training / "patient006", os.path.join(os.fsencode(training), b"patient\xe906"))
    out = tmp_path / "out"
    fails(capsys, ["convert", "phantom", "--raw", raw, "--out", out, "--val", "1", "--test", "1",
                   "--labeled", "1"], str(training), "not valid UTF-8", "rename it")  # fmt: skip
    assert not out.exists()


def test_convert_empty_training_folder_names_it(tmp_path, capsys):
    """Case 18: "cannot split 0 patients" did not say which folder."""
    training = tmp_path / "raw" / "training"
    training.mkdir(parents=True)
    for dataset in ("phantom", "acdc"):
        fails(capsys, ["convert", dataset, "--raw", tmp_path / "raw", "--out", tmp_path / "o"],
              str(training), "no patientXXX folders")  # fmt: skip
    assert not (tmp_path / "o").exists()


def test_predict_and_evaluate_accept_a_run_folder(untrained_model, phantom_data, tmp_path, capsys):
    """Case 19: --model RUN (the folder holding model.pt) is accepted."""
    run = untrained_model.parent
    image = _nifti(tmp_path / "in.nii.gz", np.random.default_rng(0).random((20, 24, 3)).astype(np.float32))
    assert main(["predict", "--model", str(run), str(image), str(tmp_path / "o.nii.gz")]) == 0
    assert main(["evaluate", "--model", str(run), "--data", str(phantom_data),
                 "--out", str(tmp_path / "m.json")]) == 0
    fails(capsys, ["predict", "--model", tmp_path, image, tmp_path / "p.nii.gz"], str(tmp_path),
          "run folder without model.pt")  # fmt: skip


def test_duplicated_list_lines_are_named(small_ssl4mis, tmp_path, capsys):
    """Case 20: a duplicated line gave "slices ... not contiguous"."""
    src = Path(shutil.copytree(small_ssl4mis, tmp_path / "ACDC"))
    lines = (src / "train_slices.list").read_text().splitlines()
    (src / "train_slices.list").write_text("\n".join([*lines, lines[3]]) + "\n")
    fails(capsys, ["prepare-ssl4mis", src, "--labeled", "3"], str(src / "train_slices.list"),
          "duplicated", lines[3])  # fmt: skip
    assert not (src / "dataset.json").exists() and not (src / "labeled").exists()


def test_report_commands_refuse_a_json_that_is_no_metrics_file(untrained_model, tmp_path, capsys):
    """Case 16: table / summarize / figures with a run's config.json gave a KeyError."""
    settings = tmp_path / "run" / "config.json"  # what a run folder holds beside model.pt
    settings.parent.mkdir()
    settings.write_text(json.dumps(torch_settings(untrained_model)))
    tiny = ROOT / ".test" / "config" / "config.yaml"
    for argv in (["table", "--config", tiny, "--metrics", settings, "--out", tmp_path / "t.md"],
                 ["summarize", "--metrics", settings, "--out", tmp_path / "s.json"],
                 ["figures", "--metrics", settings, "--runs", settings.parent, "--kind", "dice",
                  "--out", tmp_path / "fig"]):  # fmt: skip
        fails(capsys, argv, str(settings), "not a metrics file", "missing key(s)")
    assert not list(tmp_path.glob("[ts].*")) and not (tmp_path / "fig").exists()


def torch_settings(model: Path) -> dict:
    import torch

    return torch.load(model, weights_only=False)["settings"]


def test_yaml_syntax_error_names_file_line_and_column(tmp_path, capsys):
    """Case 9: `advmim plan` gave a traceback, Snakemake "not valid JSON or YAML"."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("results_dir: r\ndataset:\n  name: phantom\n  split: [1, 2\nlabeled: [1]\n")
    fails(capsys, ["plan", "--configfile", bad, "--base", bad], str(bad), "not valid YAML",
          "line 5, column 8")  # fmt: skip
    fails(capsys, ["plan", "--configfile", bad], str(bad), "line 5, column 8")
    work = tmp_path / "wf"
    work.mkdir()
    shutil.copy(ROOT / "Snakefile", work / "Snakefile")
    for folder in ("workflow", "config"):
        shutil.copytree(ROOT / folder, work / folder)
    shutil.copy(bad, work / "config" / "config.yaml")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1"], cwd=work,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode != 0
    log = proc.stdout + proc.stderr
    assert f"{work / 'config' / 'config.yaml'}: not valid YAML at line 5, column 8" in log, log


@pytest.mark.parametrize("case", ["val_split_empty", "strict_without_spacing", "strict_synapse"])
def test_workflow_refuses_unevaluable_config_before_any_job(small_ssl4mis, tmp_path, case):
    """Cases 11 and 12: found when evaluation ran (after all training); now before any job."""
    from tests.workflow_utils import tiny_config, write_config

    config = tiny_config(tmp_path / "results", methods=("supervised_unet",))
    if case == "val_split_empty":
        config["dataset"]["split"]["val"] = 0
        config["evaluation"]["split"] = "val"
        phrase = "evaluation/split: 'val' but dataset/split/val is 0"
    elif case == "strict_without_spacing":
        config["dataset"].update(name="acdc", preprocessed_dir=str(small_ssl4mis))
        config["dataset"].pop("phantom"), config["dataset"].pop("split")
        config["labeled"] = [3]
        config["evaluation"]["mode"] = "strict"
        phrase = "strict needs voxel spacing, but"
    else:
        config["dataset"].update(name="synapse", num_classes=9, raw_dir=str(tmp_path),
                                 class_names=[f"c{i}" for i in range(8)])
        config["dataset"].pop("phantom"), config["dataset"].pop("split")
        config["evaluation"]["mode"] = "strict"
        phrase = "strict needs voxel spacing, which synapse data does not store"
    configfile = write_config(tmp_path / "c.yaml", config)
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "-n",
                           "--cores", "1", "--configfile", str(configfile)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert proc.returncode != 0 and phrase in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert "rule train" not in proc.stdout and not (tmp_path / "results").exists()


def _zip_of(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_declaring_absurd_sizes_is_refused_before_extracting(tmp_path, capsys):
    """Case 6: a zip bomb (64 MiB of zeros from 64 KiB) was unpacked."""
    bomb = _zip_of(tmp_path / "acdc.zip", {"database/training/patient001/Info.cfg": b"ED: 1\n",
                                           "database/training/patient001/big.nii.gz": bytes(64 << 20)})
    out = tmp_path / "raw"
    fails(capsys, ["download", "acdc", "--zip", bomb, "--out", out], str(bomb), "zip bomb")
    assert not out.exists()


def test_zip_larger_than_the_free_space_is_refused(tmp_path, capsys):
    """Case 6: declared sizes are checked against the free space of --out."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)]).returncode:
        pytest.skip("cannot mount a tmpfs")
    try:
        member = np.random.default_rng(0).bytes(3 << 20)  # incompressible, like .nii.gz
        archive = _zip_of(tmp_path / "acdc.zip", {"database/training/patient001/a.nii.gz": member})
        fails(capsys, ["download", "acdc", "--zip", archive, "--out", small], str(archive),
              "declare", "are free in")  # fmt: skip
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_evaluate_refuses_an_empty_split_and_strict_without_spacing(untrained_model, phantom_data,
                                                                    small_ssl4mis, tmp_path, capsys):
    """Siblings of cases 11 and 12 in `advmim evaluate` (were ValueErrors after predicting)."""
    data = Path(shutil.copytree(phantom_data, tmp_path / "data"))
    (data / "val.list").write_text("")
    out = tmp_path / "m.json"
    fails(capsys, ["evaluate", "--model", untrained_model, "--data", data, "--split", "val",
                   "--out", out], str(data / "val.list"), "lists no volumes")  # fmt: skip
    fails(capsys, ["evaluate", "--model", untrained_model, "--data", small_ssl4mis, "--mode",
                   "strict", "--out", out], "patient011_frame01.h5", "no voxel spacing")  # fmt: skip
    assert not out.exists()
