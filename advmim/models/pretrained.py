"""ImageNet Swin-T weights (``swin_tiny_patch4_window7_224``): fetch, verify, load into a SwinUNet.

The weights are the official release asset of microsoft/Swin-Transformer (:data:`SWIN_T_URL`), the
file Swin-Unet and SSL4MIS's CTCT load; ``pretrained: imagenet`` makes the workflow download it
once (resumable, SHA-256 checked, :func:`advmim.download.download`). Keys are first remapped
by timm's own ``checkpoint_filter_fn`` (original Microsoft layout: PatchMerging at the end of stage
i, timm: at the start of i + 1; relative-position tables and patch embedding resized where the
window or patch size differs). Encoder keys then map one-to-one (``patch_embed``, ``layers.i``,
``norm``); decoder stage k (``layers_up.k``) is initialised from the mirrored encoder stage
``n - 2 - k`` (same resolution), as Swin-Unet's ``load_from`` does. Tensors whose shape does not
fit are skipped and reported. Loading reads local files only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from advmim.errors import ConfigError, InputError
from advmim.models.settings import HOW_TO_GET, IMAGENET, SWIN_T_FILE, SWIN_T_URL
from advmim.tensor_files import load_tensor_file

# Swin-T: embed_dim 96, depths (2, 2, 6, 2), heads (3, 6, 12, 24), window 7, patch 4.
SWIN_T_SHAPES = {
    "patch_embed.proj.weight": (96, 3, 4, 4),
    "layers.2.blocks.5.attn.qkv.weight": (1152, 384),
    "layers.0.blocks.0.attn.relative_position_bias_table": (169, 3),
}
_BUFFERS = ("relative_position_index", "attn_mask")
# "layout" of a checkpoint already in this SwinUNet's key layout (advmim pretrain-mim): no remap
ADVMIM_LAYOUT = "advmim-swin-unet"


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


def read_state_dict(path: str | Path, with_layout: bool = False):
    """Read a local checkpoint (torch or safetensors); unwraps ``model``/``state_dict``. With
    ``with_layout``: (state dict, the checkpoint's ``layout`` entry or None)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"pretrained Swin weights not found: {path}. {HOW_TO_GET}")
    sd = load_tensor_file(path, "pretrained weights")
    layout = sd.get("layout") if isinstance(sd, dict) else None
    for key in ("model", "state_dict"):
        if isinstance(sd, dict) and isinstance(sd.get(key), dict):
            sd = sd[key]
    if not isinstance(sd, dict):
        raise InputError(path, "not a state dict")
    sd = {k.removeprefix("module."): v for k, v in sd.items() if torch.is_tensor(v)}
    return (sd, layout) if with_layout else sd


def _rel_pos_module(key: str) -> str | None:
    suffix = ".relative_position_bias_table"
    return key[: -len(suffix)] if key.endswith(suffix) else None


def to_timm_layout(sd: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """``sd`` remapped by timm's Swin ``checkpoint_filter_fn`` against ``model``'s encoder.

    Relative-position tables of blocks the model lacks are passed through unchanged (timm would
    look their module up); the mapping below reports them as not in the model.
    """
    from timm.models.swin_transformer import checkpoint_filter_fn

    names = {name for name, _ in model.named_modules()}
    absent = {k: v for k, v in sd.items() if _rel_pos_module(k) not in (None, *names)}
    present = {k: v for k, v in sd.items() if k not in absent}
    try:
        out = checkpoint_filter_fn(present, model)
    except Exception as exc:  # noqa: BLE001 - timm's asserts on an unusable table
        raise ConfigError(f"pretrained Swin weights do not fit this Swin-UNet ({exc})") from exc
    return {**out, **absent}


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
    if str(path) == IMAGENET:
        raise ConfigError(
            "pretrained: imagenet is resolved to a file by the workflow (rule download_weights); "
            "outside it run `advmim download-weights swin-t --out FILE` and set pretrained: FILE"
        )
    src, layout = read_state_dict(path, with_layout=True)
    if layout != ADVMIM_LAYOUT:  # the Microsoft (or timm) Swin-T layout
        src = to_timm_layout(src, model)
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


def check_swin_t(path: str | Path) -> dict[str, torch.Tensor]:
    """Read ``path`` and check it is a Swin-T state dict (key layout and shapes); returns it."""
    sd = read_state_dict(path)
    for key, shape in SWIN_T_SHAPES.items():
        if key not in sd or tuple(sd[key].shape) != shape:
            got = tuple(sd[key].shape) if key in sd else "missing"
            raise InputError(
                path,
                f"not the ImageNet Swin-T ({key}: {got}, expected {shape}); delete it and "
                f"download {SWIN_T_URL} again",
            )
    return sd


def fetch_swin_t(
    dest: str | Path,
    sha256: str | None = None,
    url: str = SWIN_T_URL,
    *,
    progress: bool = True,
    retries: int = 3,
    timeout: float = 30,
) -> Path:
    """Download the ImageNet Swin-T to ``dest`` once (resumable, SHA-256 checked) and verify it.

    An existing ``dest`` is not downloaded again. Without ``sha256`` the computed digest is
    printed, to be pinned in the config. No network: one error saying what to put where.
    """
    from advmim.download import OfflineError, download

    dest = Path(dest)
    try:
        download(url, dest, sha256, progress=progress, retries=retries, timeout=timeout)
    except OfflineError as exc:
        raise OfflineError(
            f"{exc}; put that file (the ImageNet Swin-T, {SWIN_T_FILE}) at {dest.resolve()} "
            "and run again"
        ) from exc
    check_swin_t(dest)
    return dest
