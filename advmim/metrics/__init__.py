"""Segmentation metrics: Dice, Jaccard, HD95 and ASD in ``paper`` (SSL4MIS/medpy) or ``strict``
(mm) mode."""

from advmim.metrics.overlap import dice, jaccard
from advmim.metrics.surface import MODES, asd, hd95, surface_distances, volume_diagonal
from advmim.metrics.volume import METRICS, aggregate, evaluate_volume

__all__ = [
    "METRICS",
    "MODES",
    "aggregate",
    "asd",
    "dice",
    "evaluate_volume",
    "hd95",
    "jaccard",
    "surface_distances",
    "volume_diagonal",
]
