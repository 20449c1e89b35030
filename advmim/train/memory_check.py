"""Before set-up: refuse a run whose training step cannot fit in memory (e.g. ``img_size:
100000``, whose first zoomed slice alone is 37 GiB) with one line instead of an allocation error
after minutes of set-up. The estimate is a lower bound: the batch in float32, its zoomed copy and
the first feature map of the U-Net width (every method builds one of that width or wider)."""

from __future__ import annotations

import os

import torch

from advmim.errors import ConfigError
from advmim.models.settings import model_defaults

GIB = 2**30


def available_bytes(device: torch.device) -> int | None:
    """Free memory on ``device`` (host: MemAvailable), None when unknown."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def step_bytes_lower_bound(settings: dict) -> int:
    """Bytes a training step needs at the least (see the module doc)."""
    batch = settings["batch_labeled"] + settings["batch_unlabeled"]
    unet = {**model_defaults("unet"), **(settings.get("models") or {}).get("unet", {})}
    return batch * settings["img_size"] ** 2 * 4 * (2 + int(unet["channels"][0]))


def check_step_fits(settings: dict, device: torch.device) -> None:
    """ConfigError naming img_size when a training step cannot fit in ``device``'s free memory."""
    need, free = step_bytes_lower_bound(settings), available_bytes(device)
    if free is not None and need > free:
        raise ConfigError(
            f"img_size: {settings['img_size']} px needs at least {need / GIB:.1f} GiB per training "
            f"step ({settings['batch_labeled']} + {settings['batch_unlabeled']} slices) but {device} "
            f"has {free / GIB:.1f} GiB free; lower img_size or the batch sizes")
