"""Model registry: ``build_model(name, ...)`` for segmentation nets, ``build_discriminator``."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from torch import nn

from advmim.errors import ConfigError
from advmim.models.discriminator import PatchDiscriminator
from advmim.models.masking import block_mask, token_block_mask
from advmim.models.pretrained import load_swin_pretrained
from advmim.models.swin_unet import SwinUNet
from advmim.models.unet import UNet

__all__ = [
    "MODELS",
    "PatchDiscriminator",
    "SwinUNet",
    "UNet",
    "block_mask",
    "build_discriminator",
    "build_model",
    "load_swin_pretrained",
    "token_block_mask",
]


def _build_unet(num_classes: int, img_size: int, in_channels: int, **params) -> UNet:
    try:
        model = UNet(num_classes, in_channels=in_channels, **params)
    except ValueError as exc:
        raise ConfigError(f"unet: {exc}") from exc
    if img_size % model.size_divisor:
        raise ConfigError(f"unet: img_size {img_size} must be divisible by {model.size_divisor}")
    return model


def _build_swin_unet(
    num_classes: int,
    img_size: int,
    in_channels: int,
    pretrained: str | None = None,
    pretrained_sha256: str | None = None,  # used by the download (workflow), not here
    pretrained_url: str | None = None,
    **params,
) -> SwinUNet:
    try:
        model = SwinUNet(num_classes, img_size=img_size, in_channels=in_channels, **params)
    except ValueError as exc:
        raise ConfigError(f"swin_unet: {exc}") from exc
    model.pretrained_report = load_swin_pretrained(model, pretrained) if pretrained else None
    return model


MODELS: dict[str, tuple[Callable[..., nn.Module], type]] = {
    "unet": (_build_unet, UNet),
    "swin_unet": (_build_swin_unet, SwinUNet),
}


def model_params(name: str) -> list[str]:
    """Keyword parameters accepted by ``build_model(name, ...)`` besides the fixed ones."""
    return sorted(model_defaults(name))


def model_defaults(name: str) -> dict:
    """``{parameter: default}`` of ``build_model(name, ...)`` besides the fixed ones."""
    builder, cls = MODELS[name]
    out = {}
    for fn in (cls, builder):
        for key, p in inspect.signature(fn).parameters.items():
            if key not in {"num_classes", "img_size", "in_channels", "params"} and p.kind is not p.VAR_KEYWORD:
                out.setdefault(key, None if p.default is p.empty else p.default)
    return out


def build_model(
    name: str, num_classes: int, img_size: int, in_channels: int = 1, **params
) -> nn.Module:
    """Build a segmentation network with ``forward`` and ``forward_masked``."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; valid names: {', '.join(sorted(MODELS))}")
    unknown = sorted(set(params) - set(model_params(name)))
    if unknown:
        raise ConfigError(
            f"{name}: unknown parameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(model_params(name))}"
        )
    builder, _ = MODELS[name]
    return builder(num_classes, img_size, in_channels, **params)


def build_discriminator(num_classes: int, **params) -> PatchDiscriminator:
    """Patch discriminator on (B, num_classes, H, W) softmax maps; params: base."""
    try:
        return PatchDiscriminator(num_classes, **params)
    except TypeError as exc:
        raise ConfigError(f"discriminator: {exc}") from exc
