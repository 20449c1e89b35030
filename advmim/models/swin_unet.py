"""Swin-UNet "lite" from timm Swin stages, with a SimMIM-style masked token branch (network S).

Encoder module names follow timm's ``SwinTransformer`` (``patch_embed``, ``layers.i``, ``norm``)
so ImageNet weights map directly. Features are channels-last (B, H, W, C) throughout.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from timm.layers import PatchEmbed
from timm.models.swin_transformer import SwinTransformerStage
from torch import nn

from advmim.models.masking import token_block_mask
from advmim.models.settings import NETWORK_SETTINGS

DEFAULTS = NETWORK_SETTINGS["swin_unet"]


class PatchExpand(nn.Module):
    """Linear channel expansion, pixel-shuffle style rearrange to a finer grid, LayerNorm.

    ``scale=2``: (B, H, W, C) -> (B, 2H, 2W, C/2);  ``scale=4``: (B, H, W, C) -> (B, 4H, 4W, C).
    """

    def __init__(self, dim: int, scale: int = 2):
        super().__init__()
        self.scale = scale
        self.out_dim = dim // 2 if scale == 2 else dim
        self.expand = nn.Linear(dim, scale * scale * self.out_dim, bias=False)
        self.norm = nn.LayerNorm(self.out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, _ = x.shape
        s, c = self.scale, self.out_dim
        x = self.expand(x).view(b, h, w, s, s, c).permute(0, 1, 3, 2, 4, 5)
        return self.norm(x.reshape(b, h * s, w * s, c))


def _drop_path_rates(rate: float, depths: Sequence[int]) -> list[list[float]]:
    """Stochastic-depth rates rising linearly over all encoder blocks, split per stage."""
    total = sum(depths)
    flat = [rate * i / max(total - 1, 1) for i in range(total)]
    out, start = [], 0
    for d in depths:
        out.append(flat[start : start + d])
        start += d
    return out


class SwinUNet(nn.Module):
    """Swin-UNet: patch embed, Swin encoder stages, symmetric patch-expanding decoder."""

    def __init__(
        self,
        num_classes: int,
        img_size: int = 64,
        in_channels: int = 1,
        patch_size: int = DEFAULTS["patch_size"],
        embed_dim: int = DEFAULTS["embed_dim"],
        depths: Sequence[int] = DEFAULTS["depths"],
        num_heads: Sequence[int] = DEFAULTS["num_heads"],
        window_size: int = DEFAULTS["window_size"],
        mlp_ratio: float = DEFAULTS["mlp_ratio"],
        qkv_bias: bool = DEFAULTS["qkv_bias"],
        drop_rate: float = DEFAULTS["drop_rate"],
        attn_drop_rate: float = DEFAULTS["attn_drop_rate"],
        drop_path_rate: float = DEFAULTS["drop_path_rate"],
    ):
        super().__init__()
        n = len(depths)
        if len(num_heads) != n or n < 2:
            raise ValueError("depths and num_heads must have the same length (>= 2)")
        grid = img_size // patch_size
        if img_size % patch_size or grid % 2 ** (n - 1):
            raise ValueError(
                f"img_size {img_size} must be divisible by patch_size * 2^(stages-1) = "
                f"{patch_size * 2 ** (n - 1)}"
            )
        self.num_classes, self.img_size, self.patch_size = num_classes, img_size, patch_size
        self.in_channels = in_channels
        self.grid = grid
        dims = [embed_dim * 2**i for i in range(n)]
        res = [grid // 2**i for i in range(n)]
        common = dict(
            mlp_ratio=mlp_ratio,
            qkv_bias=qkv_bias,
            proj_drop=drop_rate,
            attn_drop=attn_drop_rate,
            window_size=window_size,
        )
        dpr = _drop_path_rates(drop_path_rate, depths)

        self.patch_embed = PatchEmbed(
            img_size=img_size,
            patch_size=patch_size,
            in_chans=3 if in_channels == 1 else in_channels,
            embed_dim=embed_dim,
            norm_layer=nn.LayerNorm,
            output_fmt="NHWC",
        )
        self.mask_token = nn.Parameter(torch.zeros(1, grid * grid, embed_dim))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.pos_drop = nn.Dropout(drop_rate)
        self.layers = nn.ModuleList(
            SwinTransformerStage(
                dim=dims[max(i - 1, 0)],
                out_dim=dims[i],
                input_resolution=(res[max(i - 1, 0)],) * 2,
                depth=depths[i],
                downsample=i > 0,
                num_heads=num_heads[i],
                drop_path=dpr[i],
                **common,
            )
            for i in range(n)
        )
        self.norm = nn.LayerNorm(dims[-1])
        # decoder stage k works at encoder level n - 2 - k (mirrors encoder stage n - 2 - k)
        levels = list(range(n - 2, -1, -1))
        self.up_first = PatchExpand(dims[-1])
        self.concat_back = nn.ModuleList(nn.Linear(2 * dims[lv], dims[lv]) for lv in levels)
        self.layers_up = nn.ModuleList(
            SwinTransformerStage(
                dim=dims[lv],
                out_dim=dims[lv],
                input_resolution=(res[lv],) * 2,
                depth=depths[lv],
                downsample=False,
                num_heads=num_heads[lv],
                drop_path=dpr[lv],
                **common,
            )
            for lv in levels
        )
        self.expands = nn.ModuleList(
            PatchExpand(dims[lv]) if lv > 0 else nn.Identity() for lv in levels
        )
        self.norm_up = nn.LayerNorm(embed_dim)
        self.final_expand = PatchExpand(embed_dim, scale=patch_size)
        self.head = nn.Conv2d(embed_dim, num_classes, 1, bias=False)
        self.apply(_init_weights)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Image (B, C, H, W) -> tokens (B, h, w, embed); grey input is repeated to RGB."""
        if self.in_channels == 1:
            x = x.expand(-1, 3, -1, -1)
        return self.patch_embed(x)

    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Tokens -> (normed bottleneck, skip features of levels 0..n-2)."""
        x = self.pos_drop(tokens)
        skips = []
        for layer in self.layers:
            x = layer(x)
            skips.append(x)
        return self.norm(x), skips[:-1]

    def decode_tokens(self, x: torch.Tensor, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        """Bottleneck + skips -> normed level-0 tokens (B, h, w, embed), the head's input."""
        x = self.up_first(x)
        for proj, stage, expand, skip in zip(
            self.concat_back, self.layers_up, self.expands, reversed(skips), strict=True
        ):
            x = expand(stage(proj(torch.cat([x, skip], dim=-1))))
        return self.norm_up(x)

    def decode(self, x: torch.Tensor, skips: Sequence[torch.Tensor]) -> torch.Tensor:
        """Bottleneck + skips -> logits (B, classes, H, W)."""
        return self.to_logits(self.decode_tokens(x, skips))

    def to_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Level-0 tokens (B, h, w, C) -> logits (B, classes, p*h, p*w): ``head(final_expand(x))``.

        The LayerNorm and the 1x1 head act on each output pixel alone, so they run on the
        (B, h, w, p*p, C) expansion before the pixel shuffle: only the small class map is
        rearranged (no copy and no 1x1 convolution of the full-resolution C-channel map).
        """
        fe = self.final_expand
        b, h, w, _ = x.shape
        s = fe.scale
        z = fe.norm(fe.expand(x).view(b, h, w, s * s, fe.out_dim))
        logits = F.linear(z, self.head.weight.flatten(1))  # the 1x1 conv head, bias-free
        k = logits.shape[-1]
        return logits.view(b, h, w, s, s, k).permute(0, 5, 1, 3, 2, 4).reshape(b, k, h * s, w * s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Unmasked branch only (inference path)."""
        return self.decode(*self.encode(self.embed(x)))

    def mask_tokens(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """x * (1 - m) + token * m with a token-grid mask (B, 1, h, w)."""
        b, h, w, c = tokens.shape
        m = mask.to(tokens.dtype).reshape(b, h, w, 1)
        return tokens * (1 - m) + self.mask_token.view(1, h, w, c) * m

    def forward_masked(
        self,
        x: torch.Tensor,
        mask_ratio: float,
        mask_block: int,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, masked_logits), as the authors' Swin-UNet: one patch embedding, then the
        original and the masked tokens through the shared encoder/decoder as separate passes."""
        b, _, h, w = x.shape
        tokens = self.embed(x)
        mask = token_block_mask(
            b, h, w, mask_block, self.patch_size, mask_ratio, generator, device=x.device
        )
        logits = self.decode(*self.encode(tokens))
        masked = self.decode(*self.encode(self.mask_tokens(tokens, mask)))
        return logits, masked


def _init_weights(m: nn.Module) -> None:
    if isinstance(m, nn.Linear):
        nn.init.trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
