"""Dice and Jaccard overlap, equal to ``medpy.metric.binary.dc`` / ``jc`` (0.0 when both masks
are empty, where medpy's ``jc`` divides by zero)."""

from __future__ import annotations

import numpy as np


def dice_from_counts(intersection: int, n_pred: int, n_gt: int) -> float:
    """Dice from voxel counts: ``2|P & G| / (|P| + |G|)``, 0.0 when both are empty."""
    total = n_pred + n_gt
    return 2.0 * intersection / float(total) if total else 0.0


def jaccard_from_counts(intersection: int, n_pred: int, n_gt: int) -> float:
    """Jaccard from voxel counts: ``|P & G| / |P | G|``, 0.0 when both are empty."""
    union = n_pred + n_gt - intersection
    return intersection / float(union) if union else 0.0


def _counts(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int, int]:
    p = np.asarray(pred).astype(bool, copy=False)
    g = np.asarray(gt).astype(bool, copy=False)
    if p.shape != g.shape:
        raise ValueError(f"shapes differ: pred {p.shape}, gt {g.shape}")
    return int(np.count_nonzero(p & g)), int(np.count_nonzero(p)), int(np.count_nonzero(g))


def dice(pred: np.ndarray, gt: np.ndarray) -> float:
    """Dice coefficient of two binary masks (nonzero = object)."""
    return dice_from_counts(*_counts(pred, gt))


def jaccard(pred: np.ndarray, gt: np.ndarray) -> float:
    """Jaccard index (intersection over union) of two binary masks (nonzero = object)."""
    return jaccard_from_counts(*_counts(pred, gt))
