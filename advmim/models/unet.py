"""SSL4MIS-style 2D U-Net with a masked-feature branch (network C of AdvMIM)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from advmim.models.masking import block_mask
from advmim.models.settings import NETWORK_SETTINGS

DEFAULTS = NETWORK_SETTINGS["unet"]


class ConvBlock(nn.Sequential):
    """conv3-BN-LeakyReLU-dropout-conv3-BN-LeakyReLU."""

    def __init__(self, cin: int, cout: int, dropout: float):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.LeakyReLU(),
            nn.Dropout(dropout),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.BatchNorm2d(cout),
            nn.LeakyReLU(),
        )


class UpBlock(nn.Module):
    """Upsample x2, concat with the skip (skip first), then a ConvBlock.

    ``upsample="bilinear"``: 1x1 conv to the skip width then bilinear x2 (align_corners) -- what
    the SSL4MIS ``UNet`` actually runs (its decoder never passes ``bilinear=False`` on);
    ``"transpose"``: a 2x2 stride-2 transposed conv.
    """

    def __init__(
        self, cin: int, cskip: int, cout: int, dropout: float = 0.0, upsample: str = "bilinear"
    ):
        super().__init__()
        if upsample == "bilinear":
            self.up = nn.Sequential(
                nn.Conv2d(cin, cskip, 1),
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
            )
        elif upsample == "transpose":
            self.up = nn.ConvTranspose2d(cin, cskip, 2, stride=2)
        else:
            raise ValueError(f"upsample must be 'bilinear' or 'transpose', got {upsample!r}")
        self.conv = ConvBlock(2 * cskip, cout, dropout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class UNetEncoder(nn.Module):
    """First conv block (``stem``) then max-pool + ConvBlock stages; returns all levels."""

    def __init__(self, in_channels: int, channels: Sequence[int], dropout: Sequence[float]):
        super().__init__()
        self.stem = ConvBlock(in_channels, channels[0], dropout[0])
        self.downs = nn.ModuleList(
            nn.Sequential(nn.MaxPool2d(2), ConvBlock(channels[i - 1], channels[i], dropout[i]))
            for i in range(1, len(channels))
        )

    def from_stem(self, f0: torch.Tensor) -> list[torch.Tensor]:
        """Run the down stages on stem features; returns [f0, f1, ..., bottleneck]."""
        feats = [f0]
        for down in self.downs:
            feats.append(down(feats[-1]))
        return feats

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.from_stem(self.stem(x))


class UNetDecoder(nn.Module):
    """Up blocks from the bottleneck to full resolution, then a 3x3 conv to classes."""

    def __init__(
        self,
        channels: Sequence[int],
        num_classes: int,
        dropout: float = 0.0,
        upsample: str = "bilinear",
    ):
        super().__init__()
        n = len(channels)
        self.ups = nn.ModuleList(
            UpBlock(channels[i], channels[i - 1], channels[i - 1], dropout, upsample)
            for i in range(n - 1, 0, -1)
        )
        self.out_conv = nn.Conv2d(channels[0], num_classes, 3, padding=1)

    def forward(
        self, feats: Sequence[torch.Tensor], return_stages: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """``feats`` from the encoder; with ``return_stages`` also the up-block outputs."""
        x = feats[-1]
        stages = []
        for up, skip in zip(self.ups, reversed(feats[:-1]), strict=True):
            x = up(x, skip)
            stages.append(x)
        logits = self.out_conv(x)
        return (logits, stages) if return_stages else logits


class UNet(nn.Module):
    """2D U-Net; ``forward_masked`` adds a branch with a block-masked first feature map."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 1,
        channels: Sequence[int] = DEFAULTS["channels"],
        dropout: Sequence[float] = DEFAULTS["dropout"],
        decoder_dropout: float = DEFAULTS["decoder_dropout"],
        upsample: str = DEFAULTS["upsample"],
    ):
        super().__init__()
        if len(channels) != len(dropout) or len(channels) < 2:
            raise ValueError("channels and dropout must have the same length (>= 2)")
        self.num_classes = num_classes
        self.channels = tuple(channels)
        self.encoder = UNetEncoder(in_channels, channels, dropout)
        self.decoder = UNetDecoder(channels, num_classes, decoder_dropout, upsample)
        self.mask_token = nn.Parameter(torch.zeros(1, channels[0], 1, 1))
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    @property
    def size_divisor(self) -> int:
        """Input height/width must be divisible by this."""
        return 2 ** (len(self.channels) - 1)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.encoder(x)

    def decode(self, feats: Sequence[torch.Tensor], return_stages: bool = False):
        return self.decoder(feats, return_stages=return_stages)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Unmasked branch only (inference path)."""
        return self.decoder(self.encoder(x))

    def mask_features(self, f0: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """f * (1 - m) + token * m with a (B, 1, H, W) mask."""
        mask = mask.to(f0.dtype)
        return f0 * (1 - mask) + self.mask_token * mask

    def forward_masked(
        self,
        x: torch.Tensor,
        mask_ratio: float,
        mask_block: int,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, masked_logits), as the authors' ``MiMUNet``: the first conv block runs once,
        then the original and the masked features go through the rest as two separate passes
        (BatchNorm statistics per branch)."""
        b, _, h, w = x.shape
        f0 = self.encoder.stem(x)
        mask = block_mask(b, h, w, mask_block, mask_ratio, generator, device=x.device)
        logits = self.decoder(self.encoder.from_stem(f0))
        masked = self.decoder(self.encoder.from_stem(self.mask_features(f0, mask)))
        return logits, masked
