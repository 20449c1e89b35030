"""Pieces shared by consistency-based semi-supervised methods: ramped weight, input noise."""

from __future__ import annotations

import torch

from advmim.blocks.schedule import sigmoid_rampup


def consistency_weight(weight: float, iteration: int, iterations: int, rampup_fraction: float) -> float:
    """``weight * sigmoid_rampup(iteration, rampup_fraction * iterations)`` (SSL4MIS ramp-up)."""
    return weight * sigmoid_rampup(iteration, rampup_fraction * iterations)


def input_noise(x: torch.Tensor, std: float = 0.1, clip: float = 0.2) -> torch.Tensor:
    """``x + clamp(randn * std, -clip, clip)`` from torch's global RNG (seeded per iteration)."""
    return x + torch.clamp(torch.randn_like(x) * std, -clip, clip)
