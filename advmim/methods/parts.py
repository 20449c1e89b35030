"""Loss pieces several methods share: the ramped consistency weight and the averaged
supervised loss (SSL4MIS forms)."""

from __future__ import annotations

import torch

from advmim.train.consistency import consistency_weight
from advmim.train.losses import ce_loss, dice_loss


def ramped_weight(method, iteration: int, key: str = "consistency") -> float:
    """``params[key] * sigmoid_rampup(it, rampup_fraction * iterations)`` (SSL4MIS schedule)."""
    p = method.params
    return consistency_weight(p[key], iteration, method.settings["iterations"], p["rampup_fraction"])


def supervised_loss(logits: list[torch.Tensor], target: torch.Tensor, scale: float) -> torch.Tensor:
    """``scale * (CE + Dice)`` averaged over several outputs of the same labeled images."""
    return scale * sum(ce_loss(x, target) + dice_loss(x, target) for x in logits) / len(logits)
