"""Patch discriminator on softmax maps (no normalisation, no sigmoid; for an LSGAN loss)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advmim.models.settings import NETWORK_SETTINGS

MIN_SIZE = 32  # five stride-2 convs: 32 px -> a 1x1 patch map


class PatchDiscriminator(nn.Module):
    """conv4x4/s2: C -> b -> 2b -> 4b -> 8b -> 1, LeakyReLU(0.2) between.

    Output is (B, 1, H/32, W/32), e.g. 2x2 at 64 px, 7x7 at 224 px. Inputs smaller than
    32 px on a side are bilinearly resized up to 32 px first, so the output is at least 1x1.
    """

    def __init__(
        self, num_classes: int, base: int = NETWORK_SETTINGS["discriminator"]["base"],
        negative_slope: float = 0.2,
    ):
        super().__init__()
        chans = [num_classes, base, 2 * base, 4 * base, 8 * base]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:], strict=True):
            layers += [
                nn.Conv2d(cin, cout, 4, stride=2, padding=1),
                nn.LeakyReLU(negative_slope, inplace=True),
            ]
        layers.append(nn.Conv2d(chans[-1], 1, 4, stride=2, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if h < MIN_SIZE or w < MIN_SIZE:
            size = (max(h, MIN_SIZE), max(w, MIN_SIZE))
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return self.net(x)
