"""The synthetic cardiac phantom: determinism, ACDC layout, anatomy and difficulty."""

from __future__ import annotations

import time

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk

from advmim.cli import main
from advmim.data.acdc import frame_paths, parse_info
from advmim.data.nifti import read_nifti
from advmim.data.phantom import generate_patient, write_phantom
from advmim.errors import ConfigError


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    opts = {"patients": 2, "size": (32, 40), "slices": (3, 4)}
    a = _files(write_phantom(tmp_path / "a", seed=5, **opts))
    b = _files(write_phantom(tmp_path / "b", seed=5, **opts))
    c = _files(write_phantom(tmp_path / "c", seed=6, **opts))
    assert a == b
    assert a != c


def test_layout_and_info(phantom_raw):
    patients = sorted(p.name for p in (phantom_raw / "training").iterdir())
    assert patients == [f"patient{i:03d}" for i in range(1, 7)]
    groups = set()
    for name in patients:
        folder = phantom_raw / "training" / name
        info = parse_info(folder / "Info.cfg")
        text = (folder / "Info.cfg").read_text()
        for key in ("ED:", "ES:", "Group:", "Height:", "NbFrame:", "Weight:"):
            assert key in text
        assert info.ed == 1 and 8 <= info.es <= 14 and 20 <= info.nb_frame <= 30
        groups.add(info.group)
        assert info.group in {"DCM", "HCM", "MINF", "NOR", "RV"}
        expected = {p.name for f in (info.ed, info.es) for p in frame_paths(folder, f)}
        assert {p.name for p in folder.glob("*.nii.gz")} == expected
    assert len(groups) > 1


def test_header_spacing_shapes_dtypes_and_labels(phantom_raw):
    for folder in sorted((phantom_raw / "training").iterdir()):
        info = parse_info(folder / "Info.cfg")
        image_path, label_path = frame_paths(folder, info.es)
        image_nii, label_nii = nib.load(image_path), nib.load(label_path)
        assert label_nii.get_data_dtype() == np.uint8
        assert image_nii.get_data_dtype() == np.int16
        sx, sy, sz = image_nii.header.get_zooms()
        assert 1.2 <= sx <= 1.8 and sx == sy and 5.0 <= sz <= 10.0
        assert np.allclose(np.diag(image_nii.affine)[:3], (sx, sy, sz))
        label, spacing = read_nifti(label_path)
        assert spacing == (sz, sy, sx)
        assert label.shape[1:] == (48, 48) and 3 <= label.shape[0] <= 5
        assert set(np.unique(label)) == {0, 1, 2, 3}


def test_simpleitk_axis_order_equals_transposed_nibabel(phantom_raw):
    image_path, _ = frame_paths(phantom_raw / "training" / "patient002", 1)
    itk = sitk.ReadImage(str(image_path))
    from_itk = sitk.GetArrayFromImage(itk)
    from_nib = np.asanyarray(nib.load(image_path).dataobj).transpose(2, 1, 0)
    ours, spacing = read_nifti(image_path)
    assert from_itk.shape == from_nib.shape == ours.shape
    assert np.array_equal(from_itk, from_nib) and np.array_equal(from_itk, ours)
    assert np.allclose(spacing, itk.GetSpacing()[::-1])


def test_es_is_contracted(phantom_raw):
    for folder in sorted((phantom_raw / "training").iterdir()):
        info = parse_info(folder / "Info.cfg")
        ed, _ = read_nifti(frame_paths(folder, info.ed)[1])
        es, _ = read_nifti(frame_paths(folder, info.es)[1])
        assert ed.shape == es.shape
        assert (es == 3).sum() < 0.95 * (ed == 3).sum()  # LV cavity smaller at ES
        assert (es == 1).sum() < (ed == 1).sum()  # RV cavity smaller at ES
        assert 0.7 < (es == 2).sum() / (ed == 2).sum() < 1.4  # myocardium thickens, similar area


def test_heart_shrinks_towards_apex():
    image, label = generate_patient(seed=1, number=3).frames[1]
    heart = (label > 0).sum(axis=(1, 2))
    assert heart[0] > 2 * heart[-1] > 0
    assert (label[-1] == 2).any()  # apex slice still shows myocardium


def _overlap(a, b, bins=40):
    edges = np.linspace(min(a.min(), b.min()), max(a.max(), b.max()), bins + 1)
    ha = np.histogram(a, edges)[0] / a.size
    hb = np.histogram(b, edges)[0] / b.size
    return np.minimum(ha, hb).sum()


def test_task_is_not_solvable_by_intensity_alone():
    overlaps, myo_dice = [], []
    for number in range(1, 5):
        patient = generate_patient(seed=0, number=number)
        image, label = patient.frames[1]
        image = image.astype(np.float64)
        body = image > np.percentile(image, 10)
        myo, background = image[label == 2], image[(label == 0) & body]
        overlaps.append(_overlap(myo, background))
        best = 0.0
        for low in np.percentile(image, np.arange(5, 100, 5)):
            for high in np.percentile(image, np.arange(10, 101, 5)):
                pred = (image >= low) & (image < high)
                best = max(
                    best, 2 * (pred & (label == 2)).sum() / (pred.sum() + (label == 2).sum())
                )
        myo_dice.append(best)
    assert np.mean(overlaps) > 0.3  # myocardium and surrounding tissue share intensities
    assert max(myo_dice) < 0.5  # no intensity window segments the myocardium


def test_patients_vary_and_generation_is_fast():
    start = time.perf_counter()
    patients = [generate_patient(seed=0, number=n) for n in range(1, 5)]
    assert (time.perf_counter() - start) / 4 < 1.0
    shapes = {p.frames[1][0].shape for p in patients}
    spacings = {p.spacing for p in patients}
    assert len(shapes) > 1 and len(spacings) == 4
    for p in patients:
        n, h, w = p.frames[1][0].shape
        assert 6 <= n <= 10 and 96 <= h <= 128 and 96 <= w <= 128


def test_cli_writes_phantom_and_rejects_bad_options(tmp_path, capsys):
    assert (
        main(
            ["phantom", "--out", str(tmp_path), "--patients", "1", "--size", "32", "--slices", "2"]
        )
        == 0
    )
    assert (tmp_path / "database/training/patient001/patient001_frame01_gt.nii.gz").is_file()
    assert main(["phantom", "--out", str(tmp_path), "--patients", "0"]) == 2
    assert "--patients" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="--size"):
        write_phantom(tmp_path, 0, 1, size=(8, 8))


def test_zoom_narrows_the_field_of_view_around_the_heart(tmp_path, capsys):
    def heart_fraction(patients):
        return np.mean([(p.frames[1][1] > 0).mean() for p in patients])

    wide = [generate_patient(seed=0, number=n, size=(32, 32)) for n in range(1, 5)]
    narrow = [generate_patient(seed=0, number=n, size=(32, 32), zoom=(2.5, 2.5)) for n in range(1, 5)]
    assert {p.frames[1][0].shape[1:] for p in narrow} == {(32, 32)}
    assert heart_fraction(narrow) > 3 * heart_fraction(wide)  # ~ zoom^2 = 6.25 (some cropped)
    for p in narrow:  # the heart stays in view: every class is present
        assert set(np.unique(p.frames[1][1])) == {0, 1, 2, 3}
        assert 1.2 / 2.5 <= p.spacing[1] == p.spacing[2] <= 1.8 / 2.5
    drawn = [generate_patient(seed=0, number=n, size=(32, 32), zoom=(1.8, 3.2)) for n in range(1, 9)]
    assert len({p.spacing[1] for p in drawn}) == 8  # a field of view per patient
    assert main(["phantom", "--out", str(tmp_path), "--patients", "1", "--zoom", "3", "2"]) == 2
    assert "--zoom" in capsys.readouterr().err
