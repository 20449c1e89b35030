"""The one reader of tensor files (checkpoints, model.pt, pretrained weights): tensors and plain
data only, never code.

A torch file is a pickle, and a pickle can name any callable to run while it loads. Every load
goes through :func:`load_tensor_file`: ``torch.load(weights_only=True)`` (tensors, dicts, lists,
tuples, strings, numbers, None; torch's own allow-list), or ``safetensors`` (tensors only). A
file that needs anything else is refused with an :class:`~advmim.errors.InputError` naming it,
and nothing of it runs (docs/security.md).
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from advmim.errors import InputError

SAFETENSORS_SUFFIX = ".safetensors"
UNSAFE = ("it holds Python objects other than tensors and plain data (loading it could run code); "
          "only checkpoints written by advmim, or plain state dicts, are read")


def load_tensor_file(path: str | Path, what: str = "checkpoint", map_location: Any = "cpu") -> Any:
    """The content of torch or safetensors file ``path``; ``what`` names it in errors."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(path, f"{what} not found")
    if path.name.endswith(SAFETENSORS_SUFFIX):
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device=str(map_location))
        except Exception as exc:  # noqa: BLE001 - any read failure is a bad input file
            raise InputError(path, f"cannot read {what} ({type(exc).__name__}: {exc})") from exc
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise InputError(path, f"refusing to load this {what}: {UNSAFE}") from None
        raise InputError(path, f"cannot read {what} ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # noqa: BLE001 - torch raises many types for truncated/corrupt files
        raise InputError(path, f"cannot read {what} ({type(exc).__name__}: {exc})") from exc
