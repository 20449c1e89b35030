"""Loss terms shared by every method (SSL4MIS definitions; see shared spec method.md)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

DICE_SMOOTH = 1e-5


def one_hot(target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(B, H, W) integer labels -> (B, C, H, W) float one-hot."""
    return F.one_hot(target.long(), num_classes).permute(0, 3, 1, 2).to(torch.float32)


def dice_loss_probs(probs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft Dice on probabilities over all classes incl. background, per class over the batch.

    ``1 - (2 sum(p g) + eps) / (sum(p^2) + sum(g^2) + eps)``, averaged over classes.
    """
    g = one_hot(target, probs.shape[1])
    p = probs.float()
    dims = (0, 2, 3)
    inter = (p * g).sum(dims)
    denom = (p * p).sum(dims) + (g * g).sum(dims)
    return (1.0 - (2.0 * inter + DICE_SMOOTH) / (denom + DICE_SMOOTH)).mean()


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Soft Dice on softmax(logits)."""
    return dice_loss_probs(torch.softmax(logits.float(), dim=1), target)


def ce_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pixel-mean cross-entropy."""
    return F.cross_entropy(logits.float(), target.long())


def weighted_ce(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Confidence-weighted CE: ``sum(w * CE_pixel) / sum(w)``."""
    pixel = F.cross_entropy(logits.float(), target.long(), reduction="none")
    return (weight * pixel).sum() / weight.sum().clamp_min(1e-12)


def lsgan_loss(scores: torch.Tensor, real: bool) -> torch.Tensor:
    """Least-squares GAN loss: MSE of discriminator scores to 1 (real) or 0 (fake)."""
    return F.mse_loss(scores.float(), torch.full_like(scores.float(), 1.0 if real else 0.0))


def pseudo_labels(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Detached hard pseudo-labels and their confidence (max softmax probability)."""
    with torch.no_grad():
        probs = torch.softmax(logits.detach().float(), dim=1)
        conf, labels = probs.max(dim=1)
    return labels, conf


def softmax_mse(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of the two softmax maps (consistency loss)."""
    return F.mse_loss(torch.softmax(logits_a.float(), 1), torch.softmax(logits_b.float(), 1))


def entropy_map(probs: torch.Tensor) -> torch.Tensor:
    """Per-pixel Shannon entropy of a softmax map, (B, H, W): ``-sum p log(p + 1e-6)`` (SSL4MIS)."""
    return -(probs * torch.log(probs + 1e-6)).sum(dim=1)
