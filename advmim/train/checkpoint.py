"""Checkpoints: atomic torch.save, clear errors on corrupt files."""

from __future__ import annotations

import io
from pathlib import Path

import torch

from advmim.errors import InputError
from advmim.io import write_bytes
from advmim.tensor_files import load_tensor_file


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` so that ``path`` is always either the old or the complete new checkpoint.

    Serialised in memory first: torch's own writer turns a full disk into an obscure
    RuntimeError, a plain write gives "no space left on device" naming the file.
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes(path, buffer.getbuffer())


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain data only, see
    :mod:`advmim.tensor_files`), naming the file on failure."""
    state = load_tensor_file(path, "checkpoint", map_location)
    if not isinstance(state, dict):
        raise InputError(path, "not an advmim checkpoint (expected a dict)")
    return state
