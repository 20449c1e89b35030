"""Bring-your-own-data paths: SSL4MIS folders used as-is, Synapse (TransUNet form), PROMISE12.

Each test writes a tiny folder in the exact on-disk form of the real data (generators below are
also used by tests/test_bad_inputs.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from advmim.cli import main
from advmim.data.registry import get_dataset
from advmim.data.splits import SHIPPED_SPLITS, read_list
from advmim.data.ssl4mis import prepare_ssl4mis
from advmim.errors import InputError

# Slices per patient of the first 14 ACDC training patients: 3 -> 68, 7 -> 136, 14 -> 256.
ACDC_SLICES = [23, 23, 22, 17, 17, 17, 17, 18, 17, 17, 17, 17, 17, 17, 4]


def _ssl4mis_h5(path: Path, image: np.ndarray, label: np.ndarray) -> None:
    """As SSL4MIS's preprocessing writes them: float64 image, no attributes, gzip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("image", data=image, compression="gzip")
        f.create_dataset("label", data=label, compression="gzip")


def write_ssl4mis_acdc(
    root: Path, size: int = 8, counts: list[int] = ACDC_SLICES, layout: str = "slices"
) -> Path:
    """An SSL4MIS-form ACDC folder: len(counts) train patients (shipped order), 1 val, 1 test,
    no training volumes. ``layout="slices"``: slices in data/slices/ (SSL4MIS); ``"flat"``: in
    data/ beside the volumes (the public copy in antares0811/3DCardiac)."""
    rng = np.random.default_rng(0)
    slice_folder = root / "data" / ("slices" if layout == "slices" else "")
    train = read_list(SHIPPED_SPLITS / "acdc" / "train.list")[: len(counts)]
    slices = []
    for patient, n in zip(train, counts, strict=True):
        for frame, count in (("frame01", (n + 1) // 2), ("frame02", n // 2)):
            for k in range(count):
                name = f"{patient}_{frame}_slice_{k}"
                label = rng.integers(0, 4, (size, size)).astype(np.uint8)
                _ssl4mis_h5(slice_folder / f"{name}.h5", rng.random((size, size)), label)
                slices.append(name)
    lists = {"train_slices": slices}
    for split, patient in (("val", "patient028"), ("test", "patient011")):
        lists[split] = [f"{patient}_frame01", f"{patient}_frame02"]
        for case in lists[split]:
            label = np.zeros((3, size, size), np.uint8)
            label[:, 2:6, 2:6] = rng.integers(1, 4)
            _ssl4mis_h5(root / "data" / f"{case}.h5", rng.random((3, size, size)), label)
    for name, names in lists.items():
        (root / f"{name}.list").write_text("".join(f"{n}\n" for n in names))
    return root


def _snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*")}


@pytest.fixture(scope="module", params=["slices", "flat"])
def ssl4mis_acdc(tmp_path_factory, request) -> Path:
    """Both layouts found in the wild: data/slices/ (SSL4MIS) and slices directly in data/."""
    folder = write_ssl4mis_acdc(tmp_path_factory.mktemp("ssl4mis") / "ACDC", layout=request.param)
    assert (folder / "data" / "slices").is_dir() == (request.param == "slices")
    return folder


def test_prepare_in_place_writes_labeled_lists_and_keeps_h5(ssl4mis_acdc, tmp_path):
    src = shutil.copytree(ssl4mis_acdc, tmp_path / "ACDC")
    before = _snapshot(src / "data")
    assert main(["prepare-ssl4mis", str(src)]) == 0
    assert _snapshot(src / "data") == before  # no h5 touched
    train_slices = read_list(src / "train_slices.list")
    for n, count in ((3, 68), (7, 136), (14, 256)):
        assert read_list(src / "labeled" / f"{n}.list") == train_slices[:count]
    meta = json.loads((src / "dataset.json").read_text())
    assert meta["labeled"]["3"] == ["patient099", "patient038", "patient050"]
    assert meta["patients"]["patient011"]["split"] == "test"
    assert read_list(src / "train.list")[:2] == ["patient099_frame01", "patient099_frame02"]
    assert main(["prepare-ssl4mis", str(src)]) == 0  # idempotent


def test_prepare_out_links_data_then_train_and_evaluate(ssl4mis_acdc, tmp_path, tiny_settings):
    from advmim.evaluate import evaluate_run
    from advmim.train.loop import train

    before = _snapshot(ssl4mis_acdc)
    out = tmp_path / "view"
    assert main(["prepare-ssl4mis", str(ssl4mis_acdc), "--out", str(out), "--labeled", "3"]) == 0
    assert _snapshot(ssl4mis_acdc) == before  # the original folder is not touched at all
    assert (out / "data").is_symlink() and len(read_list(out / "labeled" / "3.list")) == 68
    settings = tiny_settings("supervised_unet", labeled=3, iterations=2)
    model = train(settings, out, tmp_path / "run", progress=False)
    result = evaluate_run(model, out, mode="paper")
    cases = [v["case"] for v in result["networks"]["C"]["per_volume"]]
    assert cases == ["patient011_frame01", "patient011_frame02"]


def test_prepare_rejects_a_changed_slice_order(ssl4mis_acdc, tmp_path):
    src = shutil.copytree(ssl4mis_acdc, tmp_path / "ACDC")
    names = read_list(src / "train_slices.list")
    (src / "train_slices.list").write_text("".join(f"{n}\n" for n in names[1:]))
    with pytest.raises(InputError, match="have 67 slices; SSL4MIS's acdc has 68") as info:
        prepare_ssl4mis(src, plugin=get_dataset("acdc"))
    assert info.value.path == src / "train_slices.list"
    assert not (src / "labeled").exists() and not (src / "dataset.json").exists()


# ------------------------------------------------------------------------------------ Synapse


def write_synapse(root: Path, train_cases=(5, 6, 7), slices: int = 3, size: int = 16) -> Path:
    """TransUNet form: train_npz/caseXXXX_sliceYYY.npz and test_vol_h5/caseXXXX.npy.h5."""
    from advmim.data.synapse import TEST_CASES

    rng = np.random.default_rng(1)
    (root / "train_npz").mkdir(parents=True)
    for number in train_cases:
        for k in range(slices):
            np.savez(
                root / "train_npz" / f"case{number:04d}_slice{k:03d}.npz",
                image=rng.random((size, size)).astype(np.float32),
                label=rng.integers(0, 9, (size, size)).astype(np.float32),
            )
    for case in TEST_CASES:
        _ssl4mis_h5(
            root / "test_vol_h5" / f"{case}.npy.h5",
            rng.random((2, size, size)).astype(np.float32),
            rng.integers(0, 9, (2, size, size)).astype(np.float32),
        )
    return root


def test_synapse_convert_fixed_test_split_and_seeded_labeled(tmp_path):
    from advmim.data.synapse import TEST_CASES, read_npz_slice

    raw = write_synapse(tmp_path / "Synapse")
    out = tmp_path / "data"
    argv = ["convert", "synapse", "--raw", str(raw), "--out", str(out)]
    assert main([*argv, "--val", "1", "--labeled", "1", "2"]) == 0
    assert read_list(out / "test.list") == list(TEST_CASES)
    train, val = read_list(out / "train.list"), read_list(out / "val.list")
    assert len(train) == 2 and len(val) == 1 and set(train + val) == {"case0005", "case0006", "case0007"}
    assert read_list(out / "labeled" / "1.list") == [f"{train[0]}_slice_{k}" for k in range(3)]
    with h5py.File(out / "data" / f"{train[0]}.h5") as f:  # training slices stacked back
        image, label = f["image"][:], f["label"][:]
        assert label.dtype == np.uint8 and "spacing" not in f.attrs
    ref_image, ref_label = read_npz_slice(raw / "train_npz" / f"{train[0]}_slice001.npz")
    np.testing.assert_array_equal(image[1], ref_image)
    np.testing.assert_array_equal(label[1], ref_label.astype(np.uint8))
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["num_classes"] == 9 and meta["class_names"][0] == "aorta"
    out2 = tmp_path / "data2"
    assert main(["convert", "synapse", "--raw", str(raw), "--out", str(out2), "--val", "1", "--seed", "3"]) == 0
    assert read_list(out2 / "train.list") != train or read_list(out2 / "val.list") != val


def test_synapse_missing_folder_says_where_to_get_it(tmp_path, capsys):
    assert main(["convert", "synapse", "--raw", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nowhere" in err and "https://www.synapse.org/#!Synapse:syn3193805" in err


# ---------------------------------------------------------------------------------- PROMISE12


def write_promise12(root: Path, cases: int = 6, shape=(4, 12, 10)) -> Path:
    """CaseXX.mhd/.raw and CaseXX_segmentation.mhd, as the challenge ships them."""
    import SimpleITK as sitk

    rng = np.random.default_rng(2)
    root.mkdir(parents=True)
    for i in range(cases):
        image = sitk.GetImageFromArray((rng.random(shape) * 800).astype(np.int16))
        label = np.zeros(shape, np.uint8)
        label[1:3, 3:8, 2:7] = 1
        seg = sitk.GetImageFromArray(label)
        for img in (image, seg):
            img.SetSpacing((0.625, 0.6, 3.6))  # (x, y, z)
        sitk.WriteImage(image, str(root / f"Case{i:02d}.mhd"))
        sitk.WriteImage(seg, str(root / f"Case{i:02d}_segmentation.mhd"))
    return root


def test_promise12_convert_minmax_spacing_and_split(tmp_path):
    import SimpleITK as sitk

    raw = write_promise12(tmp_path / "TrainingData")
    out = get_dataset("promise12").convert(raw, tmp_path / "data", val=1, test=1, labeled=[1, 2])
    train, val, test = (read_list(out / f"{s}.list") for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (4, 1, 1)
    assert len(read_list(out / "labeled" / "2.list")) == 8  # 2 cases x 4 slices
    with h5py.File(out / "data" / f"{test[0]}.h5") as f:
        image, label, spacing = f["image"][:], f["label"][:], tuple(f.attrs["spacing"])
    ref = sitk.GetArrayFromImage(sitk.ReadImage(str(raw / f"{test[0]}.mhd"))).astype(np.float64)
    np.testing.assert_allclose(image, (ref - ref.min()) / (ref.max() - ref.min()), atol=1e-6)
    assert spacing == pytest.approx((3.6, 0.6, 0.625)) and set(np.unique(label)) == {0, 1}
