"""Segmentation metrics: Dice and HD95 in ``paper`` (SSL4MIS/medpy) or ``strict`` (mm) mode."""

from advmim.metrics.overlap import dice
from advmim.metrics.surface import MODES, hd95, surface_distances, volume_diagonal
from advmim.metrics.volume import aggregate, evaluate_volume

__all__ = [
    "MODES",
    "aggregate",
    "dice",
    "evaluate_volume",
    "hd95",
    "surface_distances",
    "volume_diagonal",
]
