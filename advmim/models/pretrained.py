"""Load ImageNet Swin-T weights (timm ``swin_tiny_patch4_window7_224``) into a SwinUNet.

Encoder keys map one-to-one (``patch_embed``, ``layers.i``, ``norm``); decoder stage k
(``layers_up.k``) is initialised from the mirrored encoder stage ``n - 2 - k`` (the stage at the
same resolution). Tensors whose shape does not fit are skipped and reported. Only local files are
read: the Hugging Face hub is never contacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from advmim.errors import ConfigError, InputError

HOW_TO_GET = (
    "Provide a local copy of timm's 'swin_tiny_patch4_window7_224' ImageNet weights "
    "(.pth/.pt or .safetensors; e.g. on a machine with internet access: "
    "timm.create_model('swin_tiny_patch4_window7_224', pretrained=True) and "
    "torch.save(model.state_dict(), 'swin_tiny_patch4_window7_224.pth')), "
    "or set pretrained: null to train the Swin-UNet from scratch."
)
_BUFFERS = ("relative_position_index", "attn_mask")


@dataclass
class PretrainedReport:
    """What ``load_swin_pretrained`` did: target keys loaded, source keys skipped (+ why)."""

    path: str
    loaded: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    not_initialised: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.path}: loaded {len(self.loaded)} tensors, skipped {len(self.skipped)}, "
            f"{len(self.not_initialised)} model tensors left at their initialisation"
        )


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a local checkpoint (torch or safetensors); unwraps ``model``/``state_dict``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"pretrained Swin weights not found: {path}. {HOW_TO_GET}")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(path))
        else:
            sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any read failure is a bad input file
        raise InputError(path, f"cannot read pretrained weights ({exc})") from exc
    for key in ("model", "state_dict"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise InputError(path, "not a state dict")
    return {k.removeprefix("module."): v for k, v in sd.items() if torch.is_tensor(v)}


def _to_timm_layout(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Original Microsoft checkpoints downsample at the end of stage i; timm at the start of i+1."""
    if "layers.0.downsample.reduction.weight" not in sd:
        return sd

    def shift(k: str) -> str:
        return re.sub(
            r"^layers\.(\d+)\.downsample", lambda m: f"layers.{int(m.group(1)) + 1}.downsample", k
        )

    return {shift(k): v for k, v in sd.items()}


def _targets(key: str, n_stages: int) -> list[str]:
    if key.startswith(("patch_embed.", "norm.")):
        return [key]
    m = re.match(r"^layers\.(\d+)\.(.+)$", key)
    if not m:
        return []
    i, rest = int(m.group(1)), m.group(2)
    out = [key]
    if rest.startswith("blocks.") and i <= n_stages - 2:
        out.append(f"layers_up.{n_stages - 2 - i}.{rest}")
    return out


def load_swin_pretrained(model: nn.Module, path: str | Path) -> PretrainedReport:
    """Copy matching Swin-T tensors into ``model`` (a SwinUNet) in place; returns a report."""
    src = _to_timm_layout(read_state_dict(path))
    own = model.state_dict()
    n_stages = len(model.layers)
    report = PretrainedReport(str(path))
    updates: dict[str, torch.Tensor] = {}
    for key, value in src.items():
        if key.endswith(_BUFFERS):
            continue
        targets = _targets(key, n_stages)
        if not targets:
            report.skipped.append((key, "not used by the Swin-UNet"))
        for tkey in targets:
            if tkey not in own:
                report.skipped.append((key, f"no {tkey} in the model"))
            elif own[tkey].shape != value.shape:
                report.skipped.append(
                    (key, f"shape {tuple(value.shape)} != {tuple(own[tkey].shape)} of {tkey}")
                )
            else:
                updates[tkey] = value.to(own[tkey].dtype)
    with torch.no_grad():
        for tkey, value in updates.items():
            own[tkey].copy_(value)
    report.loaded = sorted(updates)
    report.not_initialised = sorted(k for k in own if k not in updates and not k.endswith(_BUFFERS))
    return report
