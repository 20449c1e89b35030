"""``advmim predict``: NIfTI in, uint8 labels out with the input's geometry, same as evaluation."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
import yaml

from advmim.cli import main

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"


def train_tiny_model(data_dir: Path, run_dir: Path) -> Path:
    """A 2-iteration 32 px supervised U-Net on ``data_dir``: its model.pt."""
    from advmim.config import run_settings
    from advmim.train.loop import train

    config = yaml.safe_load(CONFIG.read_text())
    config["training"].update(img_size=32, iterations=2, batch_labeled=2, batch_unlabeled=2,
                              checkpoint_every=2, threads=1, device="cpu")  # fmt: skip
    config["models"] = {"unet": {"channels": [4, 8, 16, 32, 64]}}
    settings = run_settings(config, "supervised_unet", 1, 0)
    return train(settings, data_dir, run_dir, progress=False)


def image_files(raw: Path) -> list[Path]:
    """The phantom's image (not ground-truth) NIfTI files, sorted."""
    return sorted(p for p in raw.rglob("*_frame??.nii.gz"))


@pytest.fixture(scope="module")
def tiny_model(phantom_data, tmp_path_factory) -> Path:
    return train_tiny_model(phantom_data, tmp_path_factory.mktemp("predict_run"))


def test_predict_file_keeps_geometry_and_matches_evaluation(tiny_model, phantom_raw, phantom_data, tmp_path):
    from advmim.data.slices import load_volume
    from advmim.inference import load_networks, predict_volume

    src = next(p for p in image_files(phantom_raw) if p.name == "patient001_frame01.nii.gz")
    out = tmp_path / "seg.nii.gz"
    assert main(["predict", "--model", str(tiny_model), str(src), str(out)]) == 0
    seg, ref = nib.load(out), nib.load(src)
    labels = np.asanyarray(seg.dataobj)
    assert labels.dtype == np.uint8 and labels.shape == ref.shape
    np.testing.assert_array_equal(seg.affine, ref.affine)
    assert seg.header.get_zooms() == ref.header.get_zooms()
    # Same labels as evaluation computes on the converted volume (same min-max, same z,y,x).
    image, _, _ = load_volume(phantom_data, "patient001_frame01")
    _, nets = load_networks(tiny_model, torch.device("cpu"))
    expected = predict_volume(nets["C"], image, 32, torch.device("cpu"))
    np.testing.assert_array_equal(labels.transpose(2, 1, 0), expected)
    assert not list(tmp_path.glob(".*tmp"))


def test_predict_batch_mode_and_network_choice(tiny_model, phantom_raw, tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in image_files(phantom_raw)[:2]:
        shutil.copy(path, inputs / path.name)
    (inputs / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    argv = ["predict", "--model", str(tiny_model), "--input-dir", str(inputs), "--output-dir", str(out)]
    assert main([*argv, "--network", "C"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in inputs.glob("*.nii.gz"))
    assert main([*argv, "--network", "S"]) == 2
    assert "no network 'S'" in capsys.readouterr().err
    assert main(["predict", "--model", str(tiny_model), str(inputs / "notes.txt")]) == 2


def test_prediction_pairs_with_its_ground_truth_in_metrics_but_not_with_a_flipped_one(
    tiny_model, phantom_raw, tmp_path, capsys
):
    src = next(p for p in image_files(phantom_raw) if p.name == "patient001_frame01.nii.gz")
    gt = src.with_name("patient001_frame01_gt.nii.gz")
    out = tmp_path / "seg.nii.gz"
    assert main(["predict", "--model", str(tiny_model), str(src), str(out)]) == 0
    assert main(["metrics", str(out), str(gt)]) == 0  # same grid: the input's affine is kept
    capsys.readouterr()
    ref = nib.load(gt)
    flipped = tmp_path / "gt_flipped.nii.gz"
    nib.save(nib.Nifti1Image(np.asanyarray(ref.dataobj), ref.affine @ np.diag([1.0, -1.0, 1.0, 1.0])), flipped)
    assert main(["metrics", str(out), str(flipped)]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and str(flipped) in err and "orientation" in err
