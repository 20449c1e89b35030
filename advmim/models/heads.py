"""Auxiliary heads for U-Net baselines: CCT's perturbed decoders, URPC's deep supervision.

Both sit beside a plain :class:`~advmim.models.unet.UNet` (kept as its own network so that the
reported state dict is an ordinary U-Net) and are fed with its encoder/decoder features.
Feature perturbations follow CCT (Ouali et al., CVPR 2020) and act only in training mode.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from advmim.models.unet import UNetDecoder


class FeatureNoise(nn.Module):
    """``x + x * n`` with ``n ~ U(-r, r)`` of shape (C, H, W), shared across the batch."""

    def __init__(self, uniform_range: float = 0.3):
        super().__init__()
        self.uniform_range = uniform_range

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        r = self.uniform_range
        noise = torch.empty(x.shape[1:], device=x.device, dtype=x.dtype).uniform_(-r, r)
        return x + x * noise


class FeatureDrop(nn.Module):
    """Zero the most activated region: pixels whose channel-mean exceeds ``gamma * max``.

    ``max`` is per sample, ``gamma ~ U(low, high)`` is drawn once per batch (SSL4MIS
    ``FeatureDropout``).
    """

    def __init__(self, low: float = 0.7, high: float = 0.9):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        attention = x.mean(dim=1, keepdim=True)
        peak = attention.amax(dim=(2, 3), keepdim=True)
        gamma = torch.empty((), device=x.device).uniform_(self.low, self.high).item()
        return x * (attention < gamma * peak).to(x.dtype)


PERTURBATIONS = {
    "noise": lambda dropout_p: FeatureNoise(),
    # element-wise dropout (SSL4MIS ``F.dropout``: p 0.3 in CCT, 0.5 in URPC), not channel dropout
    "dropout": lambda dropout_p: nn.Dropout(dropout_p),
    "drop": lambda dropout_p: FeatureDrop(),
}


def make_perturbation(name: str, dropout_p: float = 0.3) -> nn.Module:
    """A perturbation module by name (``noise``, ``dropout``, ``drop``; ``none`` = identity)."""
    if name == "none":
        return nn.Identity()
    if name not in PERTURBATIONS:
        raise ValueError(f"unknown perturbation {name!r}; valid: none, {', '.join(PERTURBATIONS)}")
    return PERTURBATIONS[name](dropout_p)


class AuxDecoders(nn.Module):
    """CCT auxiliary decoders: each perturbs every encoder level, then decodes to logits."""

    def __init__(
        self,
        channels: Sequence[int],
        num_classes: int,
        perturbations: Sequence[str] = ("noise", "dropout", "drop"),
        dropout: float = 0.0,
        upsample: str = "bilinear",
        dropout_p: float = 0.3,
    ):
        super().__init__()
        self.perturbations = nn.ModuleList(make_perturbation(p, dropout_p) for p in perturbations)
        self.decoders = nn.ModuleList(
            UNetDecoder(channels, num_classes, dropout, upsample) for _ in perturbations
        )

    def perturb(self, index: int, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Features of every level after perturbation ``index``."""
        return [self.perturbations[index](f) for f in feats]

    def forward(self, feats: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [dec(self.perturb(i, feats)) for i, dec in enumerate(self.decoders)]


class DeepSupervisionHeads(nn.Module):
    """URPC side outputs: 3x3 conv to classes on decoder stages, upsampled to input size.

    ``stage_channels`` are the widths of the stages used (coarse to fine); ``perturbations``
    (one per stage, SSL4MIS URPC: dropout p 0.5, drop, noise) act before the head in training.
    Side outputs are upsampled with ``upsample_mode`` (SSL4MIS: ``F.interpolate``'s default,
    nearest).
    """

    def __init__(
        self,
        stage_channels: Sequence[int],
        num_classes: int,
        perturbations: Sequence[str] | None = None,
        dropout_p: float = 0.5,
        upsample_mode: str = "nearest",
    ):
        super().__init__()
        perturbations = perturbations or ["none"] * len(stage_channels)
        if len(perturbations) != len(stage_channels):
            raise ValueError("one perturbation per stage is needed")
        if upsample_mode not in ("nearest", "bilinear"):
            raise ValueError(f"upsample_mode must be 'nearest' or 'bilinear', got {upsample_mode!r}")
        self.upsample_mode = upsample_mode
        self.perturbations = nn.ModuleList(make_perturbation(p, dropout_p) for p in perturbations)
        self.heads = nn.ModuleList(nn.Conv2d(c, num_classes, 3, padding=1) for c in stage_channels)

    def forward(self, stages: Sequence[torch.Tensor], size: tuple[int, int]) -> list[torch.Tensor]:
        if len(stages) != len(self.heads):
            raise ValueError(f"expected {len(self.heads)} stages, got {len(stages)}")
        align = False if self.upsample_mode == "bilinear" else None
        return [
            F.interpolate(head(perturb(s)), size=size, mode=self.upsample_mode, align_corners=align)
            for head, perturb, s in zip(self.heads, self.perturbations, stages, strict=True)
        ]


def init_weights(module: nn.Module, scheme: str) -> nn.Module:
    """Re-initialise conv weights (``kaiming`` or ``xavier`` normal, zero bias), BN to (1, 0).

    CPS/co-training give their two networks different initialisations this way.
    """
    fill = {"kaiming": nn.init.kaiming_normal_, "xavier": nn.init.xavier_normal_}
    if scheme not in fill:
        raise ValueError(f"unknown init {scheme!r}; valid: {', '.join(fill)}")
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            fill[scheme](m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return module
