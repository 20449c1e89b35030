"""Mixed precision on GPU (bf16 / fp16 autocast); on CPU training stays fp32, same numerics."""

from __future__ import annotations

import contextlib

import torch

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def amp_dtype(setting: str | None, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``settings["amp"]`` on ``device`` (None: full fp32)."""
    if device.type != "cuda" or setting in (None, "off"):
        return None
    return AMP_DTYPES[setting]


def autocast(dtype: torch.dtype | None, device: torch.device):
    """``torch.autocast`` for ``dtype``, or a no-op context when ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(dtype: torch.dtype | None, device: torch.device) -> torch.amp.GradScaler | None:
    """A loss scaler for fp16 (bf16 and fp32 need none)."""
    return torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
