"""Mixed precision: bf16 / fp16 autocast on GPU, bf16 on CPUs with native bf16 (AVX512-BF16 or AMX).

Elsewhere (fp16 on CPU, bf16 on a CPU without native support, where it would be slower) training
stays fp32 with unchanged numerics.
"""

from __future__ import annotations

import contextlib

import torch

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def amp_dtype(setting: str | None, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``settings["amp"]`` on ``device`` (None: full fp32)."""
    if setting in (None, "off"):
        return None
    if device.type == "cuda":
        return AMP_DTYPES[setting]
    if device.type == "cpu" and setting == "bf16" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX512-BF16 / AMX)."""
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def autocast(dtype: torch.dtype | None, device: torch.device):
    """``torch.autocast`` for ``dtype``, or a no-op context when ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def grad_scaler(dtype: torch.dtype | None, device: torch.device) -> torch.amp.GradScaler | None:
    """A loss scaler for fp16 (bf16 and fp32 need none)."""
    return torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
