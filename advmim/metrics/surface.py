"""Surface distances, HD95 and ASD in the two evaluation modes.

Surfaces follow medpy and MONAI: a mask minus its binary erosion with the connectivity-1
structuring element, image borders counting as background. All work happens in the bounding
box of ``pred | gt`` plus a 1-voxel margin: every surface voxel of either mask lies in that box
and Euclidean distances between them do not depend on the array around them, so cropping
cannot change any value.

- ``paper``: 95th percentile (linear interpolation) of the pooled distances of both directions,
  in voxels; equals ``medpy.metric.binary.hd95(pred, gt)``.
- ``strict``: max of the two directed 95th percentiles in mm (MONAI's
  ``compute_hausdorff_distance(..., percentile=95, spacing=...)``).

ASD (average surface distance) from the same two directed distance sets:

- ``paper``: mean distance from the prediction's surface to the ground truth's, in voxels;
  equals ``medpy.metric.binary.asd(pred, gt)``, the ASD of the SSL4MIS-lineage test scripts
  (directed: medpy's symmetric variant is ``assd``).
- ``strict``: mean of the pooled distances of both directions in mm, the average *symmetric*
  surface distance (MONAI's ``compute_average_surface_distance(..., symmetric=True)``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import ndimage

from advmim.metrics import MODES

PERCENTILE = 95.0


def check_mode(mode: str) -> str:
    """Return ``mode`` or raise ValueError listing the valid modes."""
    if mode not in MODES:
        raise ValueError(f"unknown metrics mode {mode!r}; valid modes: {', '.join(MODES)}")
    return mode


@lru_cache(maxsize=8)
def _structure(ndim: int) -> np.ndarray:
    return ndimage.generate_binary_structure(ndim, 1)


def normalize_spacing(spacing: float | Sequence[float], ndim: int) -> tuple[float, ...]:
    """Spacing as one positive float per axis (a scalar applies to all axes)."""
    try:
        sp = np.broadcast_to(np.asarray(spacing, dtype=np.float64), (ndim,))
    except ValueError:
        sp = np.array([np.nan])
    if not np.all(np.isfinite(sp)) or np.any(sp <= 0):
        raise ValueError(f"spacing must be {ndim} positive numbers, got {spacing!r}")
    return tuple(float(s) for s in sp)


def volume_diagonal(shape: Sequence[int], spacing: Sequence[float]) -> float:
    """Diagonal of the image field of view, ``sqrt(sum((n_i * s_i)^2))`` (mm).

    Strictly larger than any distance between two voxels of the image: the strict-mode
    penalty for a missed structure.
    """
    return float(math.sqrt(sum((n * s) ** 2 for n, s in zip(shape, spacing, strict=True))))


def bounding_box(mask: np.ndarray, margin: int = 1) -> tuple[slice, ...] | None:
    """Bounding box of a boolean mask grown by ``margin`` (clipped), None if empty."""
    box = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        idx = np.flatnonzero(mask.any(axis=other) if other else mask)
        if idx.size == 0:
            return None
        box.append(slice(max(idx[0] - margin, 0), min(idx[-1] + 1 + margin, mask.shape[axis])))
    return tuple(box)


def merge_boxes(a: tuple[slice, ...], b: tuple[slice, ...], shape, margin: int = 1):
    """Smallest box holding boxes ``a`` and ``b``, grown by ``margin`` and clipped to ``shape``."""
    return tuple(
        slice(max(min(sa.start, sb.start) - margin, 0), min(max(sa.stop, sb.stop) + margin, n))
        for sa, sb, n in zip(a, b, shape, strict=True)
    )


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, structure=_structure(mask.ndim), border_value=0)


def directed_distances(
    pred: np.ndarray, gt: np.ndarray, spacing: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(pred->gt, gt->pred) surface distances of two non-empty boolean masks, already cropped."""
    ps, gs = _surface(pred), _surface(gt)
    d_pg = ndimage.distance_transform_edt(~gs, sampling=spacing)[ps]
    d_gp = ndimage.distance_transform_edt(~ps, sampling=spacing)[gs]
    return d_pg, d_gp


def surface_distances(
    pred: np.ndarray, gt: np.ndarray, spacing: float | Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(pred->gt, gt->pred) surface distances of two non-empty binary masks."""
    p, g = _as_masks(pred, gt)
    if not p.any() or not g.any():
        raise ValueError("surface distances need two non-empty masks")
    sp = None if spacing is None else normalize_spacing(spacing, p.ndim)
    box = bounding_box(p | g)
    return directed_distances(p[box], g[box], sp)


def combine(d_pg: np.ndarray, d_gp: np.ndarray, mode: str) -> float:
    """HD95 from the two directed distance sets (pooled in paper mode, max in strict mode)."""
    if check_mode(mode) == "paper":
        return float(np.percentile(np.concatenate((d_pg, d_gp)), PERCENTILE))
    return float(max(np.percentile(d_pg, PERCENTILE), np.percentile(d_gp, PERCENTILE)))


def mean_distance(d_pg: np.ndarray, d_gp: np.ndarray, mode: str) -> float:
    """ASD from the two directed distance sets (pred->gt in paper mode, pooled in strict mode)."""
    if check_mode(mode) == "paper":
        return float(np.mean(d_pg))
    return float(np.mean(np.concatenate((d_pg, d_gp))))


def hd95(
    pred: np.ndarray,
    gt: np.ndarray,
    spacing: float | Sequence[float] | None = None,
    mode: str = "paper",
) -> float:
    """HD95 of two binary masks.

    paper: voxel units, ``spacing`` must be None; 0.0 when either mask is empty (AdvMIM/SSL4MIS).
    strict: mm, ``spacing`` required; an empty prediction scores the volume diagonal; an empty
    ground truth raises ValueError (such cases are excluded from strict means).
    """
    return _surface_metric(pred, gt, spacing, mode, combine)


def asd(
    pred: np.ndarray,
    gt: np.ndarray,
    spacing: float | Sequence[float] | None = None,
    mode: str = "paper",
) -> float:
    """Average surface distance of two binary masks, with :func:`hd95`'s units and empty-mask
    rules (paper: medpy ``asd``, 0.0 when either mask is empty; strict: symmetric, mm)."""
    return _surface_metric(pred, gt, spacing, mode, mean_distance)


def _surface_metric(pred, gt, spacing, mode: str, reduce) -> float:
    check_mode(mode)
    p, g = _as_masks(pred, gt)
    if mode == "paper":
        if spacing is not None:
            raise ValueError("paper mode measures HD95 in voxels; pass spacing=None")
        if not p.any() or not g.any():
            return 0.0
        return reduce(*surface_distances(p, g), mode)
    if spacing is None:
        raise ValueError("strict mode needs the voxel spacing (mm)")
    sp = normalize_spacing(spacing, p.ndim)
    if not g.any():
        raise ValueError("strict mode: surface distances are undefined for an empty ground truth "
                         "(excluded)")
    if not p.any():
        return volume_diagonal(p.shape, sp)
    return reduce(*surface_distances(p, g, sp), mode)


def _as_masks(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    p = np.atleast_1d(np.asarray(pred)).astype(bool, copy=False)
    g = np.atleast_1d(np.asarray(gt)).astype(bool, copy=False)
    if p.shape != g.shape:
        raise ValueError(f"shapes differ: pred {p.shape}, gt {g.shape}")
    return p, g
