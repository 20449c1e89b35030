"""Conversion of the ACDC raw layout to the SSL4MIS form, and its errors on bad input."""

from __future__ import annotations

import gzip
import json
import shutil

import h5py
import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from advmim.cli import main
from advmim.data.acdc import frame_paths, parse_info
from advmim.data.phantom import nifti_bytes
from advmim.data.preprocess import convert_acdc_layout
from advmim.data.registry import get_dataset
from advmim.data.splits import Split, read_list
from advmim.errors import InputError


def test_volumes_equal_min_max_of_the_nifti(phantom_raw, phantom_data):
    for case in read_list(phantom_data / "test.list") + read_list(phantom_data / "val.list"):
        patient, frame_name = case.split("_")
        info = parse_info(phantom_raw / "training" / patient / "Info.cfg")
        frame = info.ed if frame_name == "frame01" else info.es
        image_path, label_path = frame_paths(phantom_raw / "training" / patient, frame)
        itk = sitk.ReadImage(str(image_path))
        raw = sitk.GetArrayFromImage(itk).astype(np.float64)
        expected = (raw - raw.min()) / (raw.max() - raw.min())
        with h5py.File(phantom_data / "data" / f"{case}.h5", "r") as f:
            image, label = f["image"][:], f["label"][:]
            assert f["image"].compression == "gzip"
            assert np.allclose(f.attrs["spacing"], itk.GetSpacing()[::-1])
            assert f.attrs["patient"] == patient and f.attrs["frame"] == frame
        assert image.dtype == np.float32 and label.dtype == np.uint8
        assert image.min() == 0.0 and image.max() == 1.0
        np.testing.assert_allclose(image, expected, atol=1e-6)
        assert np.array_equal(label, sitk.GetArrayFromImage(sitk.ReadImage(str(label_path))))
        for k in range(image.shape[0]):
            with h5py.File(phantom_data / "data" / "slices" / f"{case}_slice_{k}.h5", "r") as f:
                assert np.array_equal(f["image"][:], image[k])
                assert np.array_equal(f["label"][:], label[k])
        assert not (phantom_data / "data" / "slices" / f"{case}_slice_{image.shape[0]}.h5").exists()


def test_lists_and_dataset_json(phantom_data):
    meta = json.loads((phantom_data / "dataset.json").read_text())
    assert meta["name"] == "phantom" and meta["num_classes"] == 4
    assert meta["class_names"] == ["RV", "Myo", "LV"]
    splits = {name: read_list(phantom_data / f"{name}.list") for name in ("train", "val", "test")}
    assert [len(splits[s]) for s in ("train", "val", "test")] == [8, 2, 2]
    patients = {
        s: list(dict.fromkeys(c.split("_")[0] for c in cases)) for s, cases in splits.items()
    }
    assert sorted(sum(patients.values(), [])) == sorted(meta["patients"])
    for split, cases in splits.items():
        assert cases == [f"{p}_{f}" for p in patients[split] for f in ("frame01", "frame02")]
        assert all(meta["patients"][p]["split"] == split for p in patients[split])
    train_slices = read_list(phantom_data / "train_slices.list")
    expected = [
        f"{case}_slice_{k}"
        for case in splits["train"]
        for k in range(meta["patients"][case.split("_")[0]]["cases"][case]["slices"])
    ]
    assert train_slices == expected
    for n in (1, 2):
        labeled = read_list(phantom_data / "labeled" / f"{n}.list")
        assert labeled == train_slices[: len(labeled)]
        assert list(dict.fromkeys(s.split("_")[0] for s in labeled)) == patients["train"][:n]
        assert meta["labeled"][str(n)] == patients["train"][:n]


def test_cli_convert_phantom_is_deterministic(phantom_raw, phantom_data, tmp_path):
    argv = ["convert", "phantom", "--raw", str(phantom_raw), "--out", str(tmp_path / "d")]
    assert main([*argv, "--val", "1", "--test", "1", "--labeled", "1", "2"]) == 0
    for name in ("train.list", "val.list", "test.list", "train_slices.list", "labeled/2.list"):
        assert (tmp_path / "d" / name).read_text() == (phantom_data / name).read_text()
    for h5 in ("patient001_frame02.h5", "slices/patient001_frame02_slice_1.h5"):
        assert (tmp_path / "d/data" / h5).read_bytes() == (phantom_data / "data" / h5).read_bytes()
    assert main([*argv, "--val", "3", "--test", "3"]) == 2  # no training patient left


def _copy(phantom_raw, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(phantom_raw, raw)
    return raw, raw / "training" / "patient003"


def _write_nifti(path, array, spacing=None):
    """Rewrite ``path`` with ``array``, keeping its voxel spacing (so it stays on its image's grid)."""
    if spacing is None:
        spacing = tuple(float(z) for z in nib.load(str(path)).header.get_zooms()[:3])[::-1]
    path.write_bytes(nifti_bytes(array, spacing))


def _frame(folder, gt=False, es=False):
    info = parse_info(folder / "Info.cfg")
    return frame_paths(folder, info.es if es else info.ed)[1 if gt else 0]


def _read(path):
    return np.asanyarray(nib.load(path).dataobj).transpose(2, 1, 0)


def _missing_info(folder):
    (folder / "Info.cfg").unlink()
    return folder / "Info.cfg", "Info.cfg not found"


def _info_without_es(folder):
    cfg = folder / "Info.cfg"
    cfg.write_text(
        "".join(line + "\n" for line in cfg.read_text().splitlines() if "ES" not in line)
    )
    return cfg, "missing ES"


def _missing_frame(folder):
    path = _frame(folder, es=True)
    path.unlink()
    return path, "file not found"


def _missing_gt(folder):
    path = _frame(folder, gt=True)
    path.unlink()
    return path, "file not found"


def _truncated(folder):
    path = _frame(folder)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path, "cannot read NIfTI"


def _not_gzip(folder):
    path = _frame(folder, gt=True, es=True)
    path.write_bytes(gzip.compress(b"not a nifti file at all" * 20))
    return path, "cannot read NIfTI"


def _shape_mismatch(folder):
    path = _frame(folder, gt=True)
    _write_nifti(path, _read(path)[:, :-2])
    return path, "differs from image shape"


def _label_out_of_range(folder):
    path = _frame(folder, gt=True, es=True)
    label = _read(path).copy()
    label[0, 0, 0] = 5
    _write_nifti(path, label)
    return path, r"\[5\] outside 0..3"


def _nan_intensity(folder):
    path = _frame(folder)
    image = _read(path).astype(np.float32)
    image[1, 2, 3] = np.nan
    _write_nifti(path, image)
    return path, "NaN"


def _constant_volume(folder):
    path = _frame(folder, es=True)
    _write_nifti(path, np.full(_read(path).shape, 7, np.int16))
    return path, "constant"


@pytest.mark.parametrize(
    "corrupt",
    [
        _missing_info,
        _info_without_es,
        _missing_frame,
        _missing_gt,
        _truncated,
        _not_gzip,
        _shape_mismatch,
        _label_out_of_range,
        _nan_intensity,
        _constant_volume,
    ],
)
def test_bad_input_names_the_file_and_leaves_no_complete_output(corrupt, phantom_raw, tmp_path):
    raw, folder = _copy(phantom_raw, tmp_path)
    out = tmp_path / "out"
    get_dataset("phantom").convert(raw, out, val=1, test=1, labeled=[1])
    assert (out / "dataset.json").is_file()
    path, problem = corrupt(folder)
    with pytest.raises(InputError, match=problem) as info:
        get_dataset("phantom").convert(raw, out, val=1, test=1, labeled=[1])
    assert info.value.path == path
    assert str(path) in str(info.value)
    assert not (out / "dataset.json").exists()  # an unfinished conversion never looks complete
    assert not list(out.rglob("*.tmp"))
    for h5 in (out / "data").rglob("*.h5"):  # every h5 left behind is whole
        with h5py.File(h5, "r") as f:
            assert f["image"].shape == f["label"].shape


def test_acdc_split_requires_all_patients(phantom_raw, tmp_path):
    with pytest.raises(InputError, match=r"94 patient\(s\) of the split are missing: patient099"):
        get_dataset("acdc").convert(phantom_raw, tmp_path / "out")
    assert not (tmp_path / "out" / "dataset.json").exists()


def test_explicit_split_with_acdc_names(phantom_raw, tmp_path):
    split = Split(
        train=("patient004", "patient001"),
        val=("patient002",),
        test=("patient006",),
        labeled={1: ("patient004",)},
    )
    out = convert_acdc_layout(
        phantom_raw / "training",
        tmp_path / "o",
        split,
        name="acdc",
        num_classes=4,
        class_names=("RV", "Myo", "LV"),
    )
    assert read_list(out / "train.list")[:2] == ["patient004_frame01", "patient004_frame02"]
    assert read_list(out / "labeled" / "1.list")[0] == "patient004_frame01_slice_0"
    with pytest.raises(InputError, match="no training/patientXXX"):
        convert_acdc_layout(
            tmp_path,
            tmp_path / "p",
            split,
            name="acdc",
            num_classes=4,
            class_names=("RV", "Myo", "LV"),
        )
