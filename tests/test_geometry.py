"""An image and its label must share shape, affine and orientation: conversion and `advmim metrics`."""

from __future__ import annotations

import shutil
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from advmim.cli import main
from advmim.data.acdc import read_frame
from advmim.data.geometry import axcodes, check_same_grid, mhd_affine
from advmim.errors import InputError

AFFINE = np.array([[1.5, 0, 0, -40.0], [0, 1.5, 0, -35.0], [0, 0, 10.0, 5.0], [0, 0, 0, 1]])


def _nifti(path: Path, data: np.ndarray, affine: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(data, affine), str(path))
    return path


def _mutations() -> dict[str, tuple[np.ndarray, str]]:
    flipped_and_coarser = AFFINE.copy()
    flipped_and_coarser[0, 0], flipped_and_coarser[1, 1] = -2.0, 2.0
    spacing = AFFINE.copy()
    spacing[2, 2] = 8.0
    shifted = AFFINE.copy()
    shifted[:3, 3] += [0.0, 3.0, 0.0]
    return {
        "flipped_and_other_spacing": (flipped_and_coarser, "orientation LAS differs from RAS"),
        "other_spacing": (spacing, "voxel spacing (1.5, 1.5, 8) mm differs from (1.5, 1.5, 10) mm"),
        "shifted_origin": (shifted, "affine differs from that of"),
    }


def _frame(tmp_path: Path, label_affine: np.ndarray) -> tuple[Path, Path, Path]:
    patient = tmp_path / "patient001"
    patient.mkdir(parents=True)
    rng = np.random.default_rng(0)
    image = _nifti(patient / "patient001_frame01.nii.gz", rng.random((12, 10, 3)).astype(np.float32), AFFINE)
    label = _nifti(patient / "patient001_frame01_gt.nii.gz", rng.integers(0, 4, (12, 10, 3)).astype(np.uint8),
                   label_affine)
    return patient, image, label


@pytest.mark.parametrize("case", list(_mutations()))
def test_acdc_frame_with_label_off_the_image_grid_is_refused(tmp_path, case):
    affine, phrase = _mutations()[case]
    patient, image, label = _frame(tmp_path, affine)
    with pytest.raises(InputError) as info:
        read_frame(patient, 1, 4)
    assert info.value.path == label and str(image) in info.value.problem and phrase in info.value.problem


def test_acdc_frame_within_tolerance_is_accepted(tmp_path):
    noisy = AFFINE + np.pad(np.full((3, 4), 1e-5), ((0, 1), (0, 0)))  # float32 header round-off
    patient, _, _ = _frame(tmp_path, noisy)
    volume = read_frame(patient, 1, 4)
    assert volume.label.shape == volume.image.shape == (3, 10, 12)


def test_convert_cli_names_both_files_for_a_flipped_label(phantom_raw, tmp_path, capsys):
    raw = Path(shutil.copytree(phantom_raw, tmp_path / "raw"))
    gt = raw / "training" / "patient002" / "patient002_frame01_gt.nii.gz"
    img = nib.load(str(gt))
    flipped = img.affine @ np.diag([-1.0, 1.0, 1.0, 1.0])
    _nifti(gt, np.asanyarray(img.dataobj), flipped)
    out = tmp_path / "out"
    rc = main(["convert", "phantom", "--raw", str(raw), "--out", str(out), "--val", "1", "--test", "1",
               "--labeled", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and str(gt) in err and str(gt).replace("_gt", "") in err and "orientation" in err
    assert not (out / "dataset.json").exists()


@pytest.mark.parametrize("case", list(_mutations()))
def test_metrics_cli_refuses_prediction_off_the_ground_truth_grid(tmp_path, capsys, case):
    affine, phrase = _mutations()[case]
    labels = np.random.default_rng(1).integers(0, 4, (12, 10, 3)).astype(np.uint8)
    gt = _nifti(tmp_path / "gt.nii.gz", labels, AFFINE)
    same = _nifti(tmp_path / "same.nii.gz", labels, AFFINE)
    assert main(["metrics", str(same), str(gt)]) == 0
    capsys.readouterr()
    pred = _nifti(tmp_path / "pred.nii.gz", labels, affine)
    assert main(["metrics", str(pred), str(gt)]) == 2
    err = capsys.readouterr().err
    assert str(pred) in err and str(gt) in err and phrase in err


def test_promise12_segmentation_with_flipped_direction_is_refused(tmp_path):
    import SimpleITK as sitk

    from advmim.data.registry import get_dataset
    from tests.test_datasets_byod import write_promise12

    raw = write_promise12(tmp_path / "TrainingData")
    seg_path = raw / "Case01_segmentation.mhd"
    seg = sitk.ReadImage(str(seg_path))
    seg.SetDirection((1, 0, 0, 0, -1, 0, 0, 0, 1))
    sitk.WriteImage(seg, str(seg_path))
    with pytest.raises(InputError) as info:
        get_dataset("promise12").convert(raw, tmp_path / "data", val=1, test=1, labeled=[1])
    assert info.value.path == seg_path and str(raw / "Case01.mhd") in info.value.problem
    assert "orientation" in info.value.problem


def test_mhd_affine_is_ras_and_matches_nibabel_conventions():
    affine = mhd_affine((1, 0, 0, 0, 1, 0, 0, 0, 1), (0.5, 0.6, 3.0), (10.0, 20.0, 30.0))
    assert axcodes(affine) == "LPS"  # identity direction in ITK's LPS world
    np.testing.assert_allclose(affine[:3, 3], [-10.0, -20.0, 30.0])
    check_same_grid(affine, affine.copy(), "a.mhd", "b.mhd")
