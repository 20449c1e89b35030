"""Building networks by name from their settings (:mod:`advmim.models.settings`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from torch import nn

from advmim.errors import ConfigError
from advmim.models.discriminator import PatchDiscriminator
from advmim.models.pretrained import load_swin_pretrained
from advmim.models.settings import model_defaults, model_params, size_problem
from advmim.models.unet import UNet

if TYPE_CHECKING:
    from advmim.models.swin_unet import SwinUNet


def _build_unet(num_classes: int, img_size: int, in_channels: int, **params) -> UNet:
    try:
        model = UNet(num_classes, in_channels=in_channels, **params)
    except ValueError as exc:
        raise ConfigError(f"unet: {exc}") from exc
    if problem := size_problem("unet", img_size, params):
        raise ConfigError(f"unet: {problem}")
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
    from advmim.models.swin_unet import SwinUNet  # imports timm (~2 s): only jobs that build one

    try:
        model = SwinUNet(num_classes, img_size=img_size, in_channels=in_channels, **params)
    except ValueError as exc:
        raise ConfigError(f"swin_unet: {exc}") from exc
    model.pretrained_report = load_swin_pretrained(model, pretrained) if pretrained else None
    return model


BUILDERS: dict[str, Callable[..., nn.Module]] = {"unet": _build_unet, "swin_unet": _build_swin_unet}


def build_model(
    name: str, num_classes: int, img_size: int, in_channels: int = 1, **params
) -> nn.Module:
    """Build a segmentation network with ``forward`` and ``forward_masked``."""
    if name not in BUILDERS:
        raise ConfigError(f"unknown model {name!r}; valid names: {', '.join(sorted(BUILDERS))}")
    unknown = sorted(set(params) - set(model_params(name)))
    if unknown:
        raise ConfigError(
            f"{name}: unknown parameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(model_params(name))}"
        )
    return BUILDERS[name](num_classes, img_size, in_channels, **params)


def build_discriminator(num_classes: int, **params) -> PatchDiscriminator:
    """Patch discriminator on (B, num_classes, H, W) softmax maps; params: ``models.discriminator``
    settings (base width)."""
    unknown = sorted(set(params) - set(model_params("discriminator")))
    if unknown:
        raise ConfigError(f"discriminator: unknown parameter(s) {', '.join(unknown)}")
    try:
        return PatchDiscriminator(num_classes, **{**model_defaults("discriminator"), **params})
    except TypeError as exc:
        raise ConfigError(f"discriminator: {exc}") from exc
