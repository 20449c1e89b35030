"""Per-volume, per-class Dice, Jaccard, HD95 and ASD in ``paper`` or ``strict`` mode, and their
aggregation.

Empty-mask rules (``status`` per class); Jaccard follows Dice, ASD follows HD95:

====================  ============================  ==========================================
status                paper (Dice, HD95)            strict (Dice, HD95)
====================  ============================  ==========================================
``ok``                medpy dc / hd95 (vox)         Dice / MONAI HD95 (mm)
``missed``            0, 0                          0, volume diagonal in mm (penalty)
``empty_gt``          1, 0                          excluded (None), counted
``both_empty``        0, 0                          excluded (None), counted
====================  ============================  ==========================================

Jaccard equals medpy ``jc``; ASD is medpy ``asd`` (voxels, prediction to ground truth) in paper
mode and the symmetric mean in mm in strict mode (:mod:`advmim.metrics.surface`). HD95 and ASD
come from one computation of the two surfaces and their distance maps.

``missed`` = empty prediction, non-empty ground truth; ``empty_gt`` = non-empty prediction,
empty ground truth. The paper rules are ``calculate_metric_percase`` of the AdvMIM test script
(zlheui/AdvMIM test_2D_fully.py: both non-empty -> medpy; pred non-empty and gt empty -> 1, 0;
otherwise 0, 0), which extends SSL4MIS val_2D.py (empty pred -> 0, 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from advmim.metrics.overlap import dice_from_counts, jaccard_from_counts
from advmim.metrics.surface import (
    check_mode,
    combine,
    directed_distances,
    mean_distance,
    merge_boxes,
    normalize_spacing,
    volume_diagonal,
)

# Per-volume metrics, in the order they are written; jaccard and asd are absent from metrics
# files written before they existed (optional when read).
METRICS = ("dice", "jaccard", "hd95", "asd")
REQUIRED_METRICS = ("dice", "hd95")
_PAPER_EMPTY = {"missed": (0.0, 0.0), "empty_gt": (1.0, 0.0), "both_empty": (0.0, 0.0)}


def check_labels(labels: np.ndarray, num_classes: int) -> None:
    """Raise ValueError unless ``labels`` is an integer array with values in 0..num_classes-1."""
    if not np.issubdtype(labels.dtype, np.integer) and labels.dtype != bool:
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = np.unique(labels[(labels < 0) | (labels >= num_classes)])[:5].tolist()
        raise ValueError(f"label values {bad} outside 0..{num_classes - 1}")


def _as_labels(labels: np.ndarray) -> np.ndarray:
    return labels.view(np.uint8) if labels.dtype == bool else labels


def evaluate_volume(
    pred: np.ndarray,
    gt: np.ndarray,
    class_names: Sequence[str],
    mode: str,
    spacing: float | Sequence[float] | None = None,
) -> dict:
    """Dice, Jaccard, HD95 and ASD of each foreground class (label i+1 = ``class_names[i]``) of
    one label volume.

    ``spacing`` (per array axis, mm) is required in strict mode and ignored in paper mode.
    Returns ``{"mode", "dice": {cls: v}, "jaccard": ..., "hd95": ..., "asd": ...,
    "status": {cls: s}}``; excluded values are None.
    """
    check_mode(mode)
    pred, gt = np.asarray(pred), np.asarray(gt)
    if pred.shape != gt.shape:
        raise ValueError(f"shapes differ: pred {pred.shape}, gt {gt.shape}")
    n = len(class_names) + 1
    check_labels(pred, n)
    check_labels(gt, n)
    sp = None
    if mode == "strict":
        if spacing is None:
            raise ValueError("strict mode needs the voxel spacing (mm)")
        sp = normalize_spacing(spacing, gt.ndim)
    pred_i, gt_i = _as_labels(pred), _as_labels(gt)
    pred_boxes = ndimage.find_objects(pred_i, max_label=n - 1)
    gt_boxes = ndimage.find_objects(gt_i, max_label=n - 1)
    out: dict = {"mode": mode, **{m: {} for m in METRICS}, "status": {}}
    for label, name in enumerate(class_names, start=1):
        pb, gb = pred_boxes[label - 1], gt_boxes[label - 1]
        if pb is not None and gb is not None:
            status = "ok"
            box = merge_boxes(pb, gb, gt.shape)
            p, g = pred_i[box] == label, gt_i[box] == label
            counts = int(np.count_nonzero(p & g)), int(np.count_nonzero(p)), int(np.count_nonzero(g))
            distances = directed_distances(p, g, sp)
            values = (dice_from_counts(*counts), jaccard_from_counts(*counts),
                      combine(*distances, mode), mean_distance(*distances, mode))
        else:
            status = (
                "missed" if gb is not None else ("empty_gt" if pb is not None else "both_empty")
            )
            if mode == "paper":
                overlap, distance = _PAPER_EMPTY[status]
            elif status == "missed":
                overlap, distance = 0.0, volume_diagonal(gt.shape, sp)
            else:
                overlap, distance = None, None
            values = (overlap, overlap, distance, distance)
        for metric, value in zip(METRICS, values, strict=True):
            out[metric][name] = value
        out["status"][name] = status
    return out


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def aggregate(per_volume: Sequence[dict], class_names: Sequence[str], mode: str) -> dict:
    """Mean over volumes, then over classes, of per-volume results of one ``mode``.

    Dice and HD95 always; Jaccard and ASD when every volume has them (older metrics files do
    not). None values (strict mode, empty ground truth) are left out and counted in ``n_excluded``;
    ``n_missed`` counts missed structures. A class with no value at all has mean None and is
    left out of the class mean.
    """
    check_mode(mode)
    if not per_volume:
        raise ValueError("no volumes to aggregate")
    for v in per_volume:
        if v.get("mode", mode) != mode:
            raise ValueError(f"cannot aggregate {v['mode']!r} results in {mode!r} mode")
    metrics = [m for m in METRICS if m in REQUIRED_METRICS or all(m in v for v in per_volume)]
    out: dict = {"mode": mode, "n_volumes": len(per_volume)}
    out["n_excluded"] = {c: sum(v["dice"][c] is None for v in per_volume) for c in class_names}
    out["n_missed"] = {
        c: sum(v.get("status", {}).get(c) == "missed" for v in per_volume) for c in class_names
    }
    if mode == "paper" and any(out["n_excluded"].values()):
        raise ValueError("paper mode excludes nothing, but some per-volume values are missing")
    for metric in metrics:
        means = {
            c: _mean([v[metric][c] for v in per_volume if v[metric][c] is not None])
            for c in class_names
        }
        out[metric] = {**means, "mean": _mean([m for m in means.values() if m is not None])}
    return out
