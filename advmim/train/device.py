"""Choose the training device: a free GPU slot when present (``gpu_jobs_per_device`` jobs per
GPU, default one), else the CPU."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from advmim.errors import ConfigError


@contextlib.contextmanager
def claim_training_device(preference: str = "auto", jobs_per_device: int = 1) -> Iterator[torch.device]:
    """Yield the device for one training job, holding its GPU slot until the job ends."""
    if preference not in {"auto", "cpu", "cuda"}:
        raise ConfigError(f"device must be auto, cpu or cuda, got {preference!r}")
    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        yield torch.device("cpu")
        return
    if not torch.cuda.is_available():
        raise ConfigError("device: cuda was requested but no CUDA device is available")
    from advmim.train.gpu import claim_device

    with claim_device(jobs_per_device=jobs_per_device) as claim:
        yield claim.device
