"""Slice-wise inference on 3D volumes with a trained run (only the unmasked branch runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import zoom

from advmim.errors import ConfigError, InputError
from advmim.models import build_model
from advmim.schema import check_run_settings
from advmim.train.checkpoint import load_checkpoint

# Checkpoints written before architectures were stored: the network of each key letter.
LEGACY_ARCH_OF_KEY = {"S": "swin_unet", "C": "unet"}


def architecture_of(state: dict, key: str, path: str | Path = "model.pt") -> tuple[str, dict]:
    """(model name, parameters) of network ``key`` of a finished run's checkpoint."""
    specs = state.get("architectures", {})
    spec = specs.get(key) if isinstance(specs, dict) else None
    if spec is not None:
        if not (isinstance(spec, dict) and isinstance(spec.get("name"), str)
                and isinstance(spec.get("params"), dict)):
            raise InputError(path, f"architectures/{key}: expected {{'name': str, 'params': dict}}, "
                                   f"got {spec!r:.80}")
        return spec["name"], dict(spec["params"])
    if key not in LEGACY_ARCH_OF_KEY:
        raise InputError(path, f"network {key!r} has no stored architecture")
    arch = LEGACY_ARCH_OF_KEY[key]
    return arch, dict(state["settings"].get("models", {}).get(arch, {}))


def load_networks(model_path: str | Path, device: torch.device) -> tuple[dict, dict[str, torch.nn.Module]]:
    """Rebuild the reported networks of a finished run in eval mode: (settings, {key: net}).

    ``model_path`` is the run's ``model.pt`` or the run folder holding it.
    """
    model_path = Path(model_path)
    if model_path.is_dir():
        if not (model_path / "model.pt").is_file():
            raise InputError(model_path, "run folder without model.pt (training not finished?)")
        model_path = model_path / "model.pt"
    state = load_checkpoint(model_path, map_location=device)
    if "nets" not in state or "settings" not in state:
        raise InputError(model_path, "not a finished advmim model (missing 'nets'/'settings')")
    if not isinstance(state["nets"], dict) or not state["nets"] or not all(
            isinstance(w, dict) for w in state["nets"].values()):
        raise InputError(model_path, "'nets' must map network keys to state dicts, got "
                                     f"{type(state['nets']).__name__}")
    settings = check_run_settings(state["settings"], f"{model_path} (its settings)")
    nets = {}
    for key, weights in state["nets"].items():
        arch, params = architecture_of(state, key, model_path)
        if "pretrained" in params:
            params["pretrained"] = None  # weights come from the checkpoint
        try:
            net = build_model(arch, settings["num_classes"], settings["img_size"], **params)
        except (ConfigError, TypeError, ValueError) as exc:  # stored architecture this code cannot build
            raise InputError(model_path, f"network {key!r}: cannot build its stored {arch} ({exc})") from None
        try:
            net.load_state_dict(weights)
        except RuntimeError as exc:  # missing/unexpected keys, shapes (e.g. another num_classes)
            first = next((line.strip() for line in str(exc).splitlines()[1:] if line.strip()), str(exc))
            raise InputError(model_path, f"network {key!r}: the weights do not fit a {arch} with "
                                         f"num_classes {settings['num_classes']} and its stored "
                                         f"settings ({first})") from None
        nets[key] = net.to(device).eval()
    return settings, nets


def resize_plane(plane: np.ndarray, shape: tuple[int, int], order: int) -> np.ndarray:
    """Resize a 2D array to ``shape`` (SSL4MIS uses order 0 for images and labels)."""
    factors = (shape[0] / plane.shape[0], shape[1] / plane.shape[1])
    return zoom(plane, factors, order=order)


@torch.no_grad()
def predict_volume(net: torch.nn.Module, image: np.ndarray, img_size: int, device: torch.device,
                   batch_size: int = 16) -> np.ndarray:
    """Segment a (z, y, x) volume slice by slice at network size; labels back at input size."""
    if image.ndim != 3:
        raise ValueError(f"expected a (z, y, x) volume, got shape {image.shape}")
    z, h, w = image.shape
    planes = np.stack([resize_plane(image[k], (img_size, img_size), order=0) for k in range(z)])
    out = np.empty((z, h, w), dtype=np.uint8)
    for start in range(0, z, batch_size):
        x = torch.from_numpy(planes[start:start + batch_size, None].astype(np.float32)).to(device)
        labels = net(x).argmax(dim=1).to(torch.uint8).cpu().numpy()
        for k, lab in enumerate(labels, start=start):
            out[k] = resize_plane(lab, (h, w), order=0)
    return out
