"""Learning-rate and consistency-weight schedules (pure functions of the iteration)."""

from __future__ import annotations

import math


def poly_lr(base_lr: float, iteration: int, max_iterations: int, power: float = 0.9) -> float:
    """``base * (1 - it / max_it) ** power``."""
    return base_lr * (1.0 - iteration / max_iterations) ** power


def sigmoid_rampup(current: float, length: float) -> float:
    """SSL4MIS ramp-up ``exp(-5 (1 - t)^2)`` with ``t = clip(current / length, 0, 1)``."""
    if length <= 0:
        return 1.0
    t = min(max(current / length, 0.0), 1.0)
    return float(math.exp(-5.0 * (1.0 - t) ** 2))
