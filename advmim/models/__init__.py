"""Networks: ``build_model(name, ...)`` for segmentation nets, ``build_discriminator``.

Importing this package does not import torch: the settings (:mod:`advmim.models.settings`) are
plain data for config validation; the builders and network classes load on first use.
"""

from __future__ import annotations

from importlib import import_module

from advmim.models.settings import NETWORK_SETTINGS, model_defaults, model_params

__all__ = [
    "NETWORK_SETTINGS",
    "PatchDiscriminator",
    "SwinUNet",
    "UNet",
    "block_mask",
    "build_discriminator",
    "build_model",
    "load_swin_pretrained",
    "model_defaults",
    "model_params",
    "token_block_mask",
]
_LAZY = {
    "build_model": "registry", "build_discriminator": "registry",
    "PatchDiscriminator": "discriminator", "SwinUNet": "swin_unet", "UNet": "unet",
    "block_mask": "masking", "token_block_mask": "masking", "load_swin_pretrained": "pretrained",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
