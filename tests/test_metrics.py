"""Metrics: equality with medpy (paper) and MONAI (strict), empty-mask rules, aggregation, CLI.

Dice, Jaccard, HD95 and ASD; medpy's ``jc`` / ``asd`` (paper) and MONAI's symmetric average
surface distance (strict)."""

from __future__ import annotations

import json
import math
import warnings

import h5py
import nibabel as nib
import numpy as np
import pytest
from medpy.metric import binary

from advmim.cli import main
from advmim.metrics import (
    aggregate,
    asd,
    dice,
    evaluate_volume,
    hd95,
    jaccard,
    surface_distances,
    volume_diagonal,
)

CLASSES = ["RV", "Myo", "LV"]


def _random_pair(rng, shape, blobs: bool):
    if blobs:  # sparse random voxels: many small components and outliers
        return rng.random(shape) < rng.uniform(0.02, 0.5), rng.random(shape) < rng.uniform(
            0.02, 0.5
        )
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]

    def ball():
        c = [rng.uniform(0, n) for n in shape]
        r = [rng.uniform(1, max(n / 2, 1.5)) for n in shape]
        return sum(((g - ci) / ri) ** 2 for g, ci, ri in zip(grids, c, r, strict=True)) <= 1.0

    return ball() | ball(), ball()


def _cases(seed, n, ndims=(2, 3)):
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n:
        shape = tuple(int(s) for s in rng.integers(2, 24, size=rng.choice(ndims)))
        p, g = _random_pair(rng, shape, blobs=len(out) % 2 == 0)
        if p.any() and g.any():
            out.append((p, g))
    return out


@pytest.mark.parametrize("p,g", _cases(0, 120))
def test_paper_mode_equals_medpy(p, g):
    assert dice(p, g) == binary.dc(p, g)
    assert jaccard(p, g) == binary.jc(p, g)
    assert hd95(p, g) == binary.hd95(p, g)
    assert asd(p, g) == binary.asd(p, g)


def test_paper_mode_elongated_volumes():
    rng = np.random.default_rng(1)
    for shape in [(3, 40, 5), (1, 30, 30), (25, 2, 2), (4, 4, 4, 4)]:
        p, g = rng.random(shape) < 0.3, rng.random(shape) < 0.2
        assert hd95(p, g) == binary.hd95(p, g)
        assert asd(p, g) == binary.asd(p, g) and asd(g, p) == binary.asd(g, p)


def test_strict_mode_equals_monai():
    torch = pytest.importorskip("torch")
    from monai.metrics import compute_hausdorff_distance

    rng = np.random.default_rng(2)
    for p, g in _cases(3, 40):
        sp = tuple(float(s) for s in rng.uniform(0.4, 10.0, size=p.ndim))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = compute_hausdorff_distance(
                torch.from_numpy(p)[None, None],
                torch.from_numpy(g)[None, None],
                include_background=True,
                percentile=95,
                spacing=sp,
            ).item()
        assert hd95(p, g, spacing=sp, mode="strict") == pytest.approx(ref, rel=1e-5, abs=1e-5)


def test_strict_asd_equals_monai_symmetric():
    torch = pytest.importorskip("torch")
    from monai.metrics import compute_average_surface_distance

    rng = np.random.default_rng(6)
    for p, g in _cases(7, 40):
        sp = tuple(float(s) for s in rng.uniform(0.4, 10.0, size=p.ndim))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = compute_average_surface_distance(
                torch.from_numpy(p)[None, None],
                torch.from_numpy(g)[None, None],
                include_background=True,
                symmetric=True,
                spacing=sp,
            ).item()
        assert asd(p, g, spacing=sp, mode="strict") == pytest.approx(ref, rel=1e-5, abs=1e-5)


def test_paper_asd_is_directed_strict_is_symmetric():
    g = np.zeros((20, 20), bool)
    g[5:15, 5:15] = True
    p = g.copy()
    p[0, 0] = True  # one outlier: far from g, only on the prediction side
    d_pg, d_gp = surface_distances(p, g)
    assert asd(p, g) == d_pg.mean() > asd(g, p) == d_gp.mean() == 0.0
    both = np.concatenate((d_pg, d_gp)).mean()
    assert asd(p, g, spacing=1.0, mode="strict") == asd(g, p, spacing=1.0, mode="strict") == both


def test_strict_is_max_of_directed_and_differs_from_paper():
    g = np.zeros((20, 20), bool)
    g[5:15, 5:15] = True
    p = g.copy()
    p[0, [0, 10, 19]] = True  # 3 outliers: >5% of pred's surface, <5% of the pooled set
    d_pg, d_gp = surface_distances(p, g, spacing=(2.0, 2.0))
    strict = hd95(p, g, spacing=(2.0, 2.0), mode="strict")
    assert strict == max(np.percentile(d_pg, 95), np.percentile(d_gp, 95))
    assert strict > 10.0 and hd95(p, g) == 0.0  # the pooled percentile hides the outliers


def test_empty_prediction_rules():
    g = np.zeros((4, 10, 12), bool)
    g[1:3, 2:5, 2:5] = True
    p = np.zeros_like(g)
    assert dice(p, g) == 0.0 and hd95(p, g) == 0.0  # paper: SSL4MIS rule
    assert jaccard(p, g) == 0.0 and asd(p, g) == 0.0
    value = hd95(p, g, spacing=(10.0, 1.5, 1.5), mode="strict")
    assert value == pytest.approx(math.sqrt(40**2 + 15**2 + 18**2))
    assert value == volume_diagonal(g.shape, (10.0, 1.5, 1.5)) and not math.isnan(value)
    assert asd(p, g, spacing=(10.0, 1.5, 1.5), mode="strict") == value  # same penalty
    for metric in (hd95, asd):
        with pytest.raises(ValueError, match="empty ground truth"):
            metric(g, p, spacing=1.0, mode="strict")
    assert hd95(g, p) == 0.0 and asd(g, p) == 0.0 and jaccard(p, p) == 0.0


def test_mode_and_spacing_errors():
    m = np.ones((3, 3), bool)
    with pytest.raises(ValueError, match="paper, strict"):
        hd95(m, m, mode="mm")
    with pytest.raises(ValueError, match="paper, strict"):
        evaluate_volume(m.astype(np.uint8), m.astype(np.uint8), ["A"], "fancy")
    with pytest.raises(ValueError, match="spacing"):
        hd95(m, m, mode="strict")
    with pytest.raises(ValueError, match="voxels"):
        hd95(m, m, spacing=2.0)
    with pytest.raises(ValueError, match="spacing"):
        hd95(m, m, spacing=(1.0, 2.0, 3.0), mode="strict")


def _label_volume(rng, shape=(6, 40, 48)):
    lab = np.zeros(shape, np.uint8)
    lab[1:5, 5:20, 5:20] = 1
    lab[1:5, 22:35, 10:40] = 2
    lab[2:4, 25:32, 15:35] = 3
    noise = rng.random(shape) < 0.02
    pred = lab.copy()
    pred[noise] = rng.integers(0, 4, size=int(noise.sum()))
    return pred, lab


def test_evaluate_volume_matches_medpy_per_class():
    rng = np.random.default_rng(4)
    pred, gt = _label_volume(rng)
    res = evaluate_volume(pred, gt, CLASSES, "paper")
    for i, c in enumerate(CLASSES, start=1):
        assert res["dice"][c] == binary.dc(pred == i, gt == i)
        assert res["jaccard"][c] == binary.jc(pred == i, gt == i)
        assert res["hd95"][c] == binary.hd95(pred == i, gt == i)
        assert res["asd"][c] == binary.asd(pred == i, gt == i)
        assert res["status"][c] == "ok"
    assert res["mode"] == "paper"
    sp = (5.0, 1.2, 0.8)
    strict = evaluate_volume(pred, gt, CLASSES, "strict", spacing=sp)
    for i, c in enumerate(CLASSES, start=1):
        assert strict["asd"][c] == asd(pred == i, gt == i, spacing=sp, mode="strict")
        assert strict["jaccard"][c] == res["jaccard"][c]


def test_evaluate_volume_empty_classes_both_modes():
    gt = np.zeros((3, 10, 10), np.uint8)
    gt[1, 2:5, 2:5] = 1  # RV present, missed by pred
    pred = np.zeros_like(gt)
    pred[1, 6:8, 6:8] = 2  # Myo predicted, absent from gt; LV absent from both
    paper = evaluate_volume(pred, gt, CLASSES, "paper")
    assert paper["status"] == {"RV": "missed", "Myo": "empty_gt", "LV": "both_empty"}
    assert paper["dice"] == paper["jaccard"] == {"RV": 0.0, "Myo": 1.0, "LV": 0.0}
    assert paper["hd95"] == paper["asd"] == {"RV": 0.0, "Myo": 0.0, "LV": 0.0}
    sp = (8.0, 1.25, 1.25)
    strict = evaluate_volume(pred, gt, CLASSES, "strict", spacing=sp)
    assert strict["dice"] == strict["jaccard"] == {"RV": 0.0, "Myo": None, "LV": None}
    assert strict["hd95"]["RV"] == strict["asd"]["RV"] == volume_diagonal(gt.shape, sp)
    assert strict["hd95"]["Myo"] is None and strict["hd95"]["LV"] is None
    assert strict["asd"]["Myo"] is None and strict["asd"]["LV"] is None
    with pytest.raises(ValueError, match="outside 0..3"):
        evaluate_volume(pred + 2, gt, CLASSES, "paper")


def _vol(dice_v, hd_v, status=None, mode="strict"):
    status = status or {c: "ok" for c in dice_v}
    return {"mode": mode, "dice": dice_v, "hd95": hd_v, "status": status}


def test_aggregate_hand_example():
    classes = ["A", "B"]
    vols = [
        _vol({"A": 0.8, "B": 0.6}, {"A": 2.0, "B": 4.0}),
        _vol({"A": 0.4, "B": None}, {"A": 6.0, "B": None}, {"A": "ok", "B": "empty_gt"}),
        _vol({"A": 0.0, "B": 1.0}, {"A": 50.0, "B": 0.0}, {"A": "missed", "B": "ok"}),
    ]
    agg = aggregate(vols, classes, "strict")
    assert agg["dice"]["A"] == pytest.approx(0.4)
    assert agg["dice"]["B"] == pytest.approx(0.8)
    assert agg["dice"]["mean"] == pytest.approx(0.6)
    assert agg["hd95"]["A"] == pytest.approx(58 / 3)
    assert agg["hd95"]["B"] == pytest.approx(2.0)
    assert agg["hd95"]["mean"] == pytest.approx((58 / 3 + 2.0) / 2)
    assert agg["n_excluded"] == {"A": 0, "B": 1} and agg["n_missed"] == {"A": 1, "B": 0}
    assert agg["mode"] == "strict" and agg["n_volumes"] == 3
    with pytest.raises(ValueError, match="cannot aggregate"):
        aggregate(vols, classes, "paper")
    with pytest.raises(ValueError, match="no volumes"):
        aggregate([], classes, "paper")


def test_aggregate_jaccard_asd_optional():
    """Metrics files written before Jaccard/ASD existed still aggregate (Dice/HD95 only)."""
    rng = np.random.default_rng(8)
    vols = [evaluate_volume(*_label_volume(rng), CLASSES, "paper") for _ in range(3)]
    agg = aggregate(vols, CLASSES, "paper")
    for metric in ("jaccard", "asd"):
        assert agg[metric]["LV"] == pytest.approx(np.mean([v[metric]["LV"] for v in vols]))
    old = [{k: v[k] for k in ("mode", "dice", "hd95", "status")} for v in vols]
    old_agg = aggregate(old, CLASSES, "paper")
    assert "jaccard" not in old_agg and "asd" not in old_agg
    assert old_agg["dice"] == agg["dice"] and old_agg["hd95"] == agg["hd95"]
    assert "asd" not in aggregate([vols[0], old[1]], CLASSES, "paper")


def _write_nii(path, zyx, spacing_zyx):
    affine = np.diag([*spacing_zyx[::-1], 1.0])
    nib.save(nib.Nifti1Image(np.ascontiguousarray(zyx.T), affine), str(path))


def _write_h5(path, zyx, spacing=None):
    with h5py.File(path, "w") as f:
        f.create_dataset("label", data=zyx)
        if spacing is not None:
            f.attrs["spacing"] = spacing


def _cli(capsys, *argv):
    rc = main(["metrics", *map(str, argv)])
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if rc == 0 else None), err


def test_cli_nifti_strict_spacing_from_header(tmp_path, capsys):
    pred, gt = _label_volume(np.random.default_rng(5))
    sp = (10.0, 1.5, 1.25)
    _write_nii(tmp_path / "p.nii.gz", pred, sp)
    _write_nii(tmp_path / "g.nii.gz", gt, sp)
    rc, out, _ = _cli(capsys, tmp_path / "p.nii.gz", tmp_path / "g.nii.gz", "--mode", "strict")
    assert rc == 0 and out["mode"] == "strict" and out["spacing"] == list(sp)
    ref = evaluate_volume(pred, gt, CLASSES, "strict", spacing=sp)
    assert out["dice"] == ref["dice"] and out["hd95"] == pytest.approx(ref["hd95"])
    assert out["mean"]["dice"]["mean"] == pytest.approx(np.mean(list(ref["dice"].values())))


def test_cli_h5_paper_and_strict_spacing(tmp_path, capsys):
    pred, gt = _label_volume(np.random.default_rng(6))
    _write_h5(tmp_path / "p.h5", pred)
    _write_h5(tmp_path / "g.h5", gt, spacing=(5.0, 1.5, 1.5))
    _write_h5(tmp_path / "g_nosp.h5", gt)
    rc, out, _ = _cli(capsys, tmp_path / "p.h5", tmp_path / "g_nosp.h5", "--num-classes", "4")
    assert rc == 0 and out["classes"] == ["1", "2", "3"] and out["spacing"] is None
    assert out["hd95"]["1"] == binary.hd95(pred == 1, gt == 1)
    assert out["jaccard"]["2"] == binary.jc(pred == 2, gt == 2)
    assert out["asd"]["3"] == binary.asd(pred == 3, gt == 3)
    assert out["mean"]["asd"]["3"] == out["asd"]["3"]
    rc, out, _ = _cli(capsys, tmp_path / "p.h5", tmp_path / "g.h5", "--mode", "strict")
    assert rc == 0 and out["spacing"] == [5.0, 1.5, 1.5]
    assert out["asd"]["RV"] == asd(pred == 1, gt == 1, spacing=(5.0, 1.5, 1.5), mode="strict")
    rc, _, err = _cli(capsys, tmp_path / "p.h5", tmp_path / "g_nosp.h5", "--mode", "strict")
    assert rc == 2 and "g_nosp.h5" in err and "spacing" in err


def test_cli_input_errors(tmp_path, capsys):
    pred, gt = _label_volume(np.random.default_rng(7))
    _write_h5(tmp_path / "p.h5", pred)
    _write_h5(tmp_path / "small.h5", gt[:, :20])
    _write_h5(tmp_path / "g.h5", gt)
    _write_h5(tmp_path / "bad.h5", np.where(pred == 3, 7, pred).astype(np.uint8))
    (tmp_path / "broken.nii.gz").write_bytes(b"not a nifti file")
    rc, _, err = _cli(capsys, tmp_path / "p.h5", tmp_path / "small.h5")
    assert rc == 2 and "p.h5" in err and "small.h5" in err and "shape" in err
    rc, _, err = _cli(capsys, tmp_path / "bad.h5", tmp_path / "g.h5")
    assert rc == 2 and "bad.h5" in err and "[7]" in err
    rc, _, err = _cli(capsys, tmp_path / "broken.nii.gz", tmp_path / "g.h5")
    assert rc == 2 and "broken.nii.gz" in err
    rc, _, err = _cli(capsys, tmp_path / "missing.h5", tmp_path / "g.h5")
    assert rc == 2 and "missing.h5" in err and "not found" in err
    rc, _, err = _cli(capsys, tmp_path / "p.h5", tmp_path / "g.h5", "--classes", "RV")
    assert rc == 2 and "outside 0..1" in err
