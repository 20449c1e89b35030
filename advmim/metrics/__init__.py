"""Segmentation metrics: Dice, Jaccard, HD95 and ASD in ``paper`` (SSL4MIS/medpy) or ``strict``
(mm) mode.

The functions are imported from their modules on first use, so that reading :data:`MODES` (the
command line's choices) does not import scipy.
"""

import importlib

MODES = ("paper", "strict")

_HOME = {
    "dice": "overlap",
    "jaccard": "overlap",
    "hd95": "surface",
    "asd": "surface",
    "surface_distances": "surface",
    "volume_diagonal": "surface",
    "METRICS": "volume",
    "aggregate": "volume",
    "evaluate_volume": "volume",
}

__all__ = ["MODES", *sorted(_HOME)]


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'advmim.metrics' has no attribute {name!r}")
    return getattr(importlib.import_module(f"advmim.metrics.{_HOME[name]}"), name)
