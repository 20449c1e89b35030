"""Masked image modelling of the Swin-UNet encoder on a dataset's training images, without labels:
the label-free stand-in for ImageNet pretraining (``models.swin_unet.pretrained: mim``).

SimMIM's recipe at this benchmark's scale: a random block mask (``mask_ratio`` of the blocks,
``mask_block`` pixels at the paper's 224 px, scaled to ``img_size``) replaces the masked patch
tokens by the network's learnable mask token; the encoder's bottleneck goes through SimMIM's
one-layer prediction head (a 1x1 convolution to ``stride^2`` pixels per bottleneck token and a
pixel shuffle back to the input size); the loss is the L1 error on the masked pixels only.
AdamW with poly decay. Every training slice (labeled or not) is used, with
``pretrain.augmentation``; labels are never read. The result holds the encoder (``patch_embed``, ``layers``,
``norm``) in the SwinUNet's own layout and loads like the ImageNet weights: encoder stages, and
the mirrored decoder stages (:func:`advmim.models.pretrained.load_swin_pretrained`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from advmim.blocks.schedule import poly_lr
from advmim.blocks.seeding import derive_seed, seed_everything, torch_generator
from advmim.data.splits import read_list
from advmim.errors import ConfigError
from advmim.io import write_json
from advmim.models import build_model
from advmim.models.masking import expand_mask, scaled_block, token_block_mask
from advmim.models.pretrained import ADVMIM_LAYOUT
from advmim.progress import Progress
from advmim.train.checkpoint import save_checkpoint
from advmim.train.sampling import EpochSampler

ENCODER_PREFIXES = ("patch_embed.", "layers.", "norm.")


class SimMIMHead(nn.Module):
    """Bottleneck tokens (B, h, w, C) -> image (B, in_channels, h * stride, w * stride)."""

    def __init__(self, dim: int, stride: int, in_channels: int):
        super().__init__()
        self.proj = nn.Conv2d(dim, stride * stride * in_channels, 1)
        self.shuffle = nn.PixelShuffle(stride)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.proj(tokens.permute(0, 3, 1, 2)))


def masked_l1(reconstruction: torch.Tensor, image: torch.Tensor, pixel_mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the masked pixels (SimMIM's loss)."""
    error = (reconstruction - image).abs() * pixel_mask
    return error.sum() / (pixel_mask.sum() * image.shape[1]).clamp_min(1.0)


def encoder_state(swin: nn.Module) -> dict[str, torch.Tensor]:
    """The encoder tensors of a SwinUNet (what the ImageNet Swin-T provides too)."""
    return {k: v.detach().clone() for k, v in swin.state_dict().items() if k.startswith(ENCODER_PREFIXES)}


def check_pretrain_settings(settings) -> dict:
    """Pretraining settings checked against the schema (:func:`advmim.schema.check_pretrain_settings`)."""
    from advmim.schema import check_pretrain_settings as check

    return check(settings)


def pretrain_mim(settings: dict, data_dir: str | Path, out: str | Path, device: torch.device | None = None,
                 progress: bool = True) -> Path:
    """Pretrain a SwinUNet encoder with ``settings`` (advmim.config.pretrain_settings) on the
    training slices of ``data_dir``; write the checkpoint to ``out`` (atomically)."""
    from advmim.data.slices import SliceDataset
    from advmim.train.loop import make_batch

    check_pretrain_settings(settings)
    device = device or torch.device("cpu")
    p = settings["pretrain"]
    torch.set_num_threads(int(settings["threads"]))
    seed = int(p["seed"])
    seed_everything(seed)
    swin_params = {k: v for k, v in settings["swin_unet"].items() if not k.startswith("pretrained")}
    size = settings["img_size"]
    swin = build_model("swin_unet", 2, size, **swin_params)  # the head is not used
    stride = swin.patch_size * 2 ** (len(swin.layers) - 1)
    head = SimMIMHead(swin.norm.normalized_shape[0], stride, 1)
    swin, head = swin.to(device), head.to(device)
    block = scaled_block(p["mask_block"], size, swin.patch_size)
    if size % stride:
        raise ConfigError(f"pretrain: img_size {size} must be a multiple of {stride}")
    params = [q for q in [*swin.parameters(), *head.parameters()] if q.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=p["lr"], weight_decay=p["weight_decay"])
    names = read_list(Path(data_dir) / "train_slices.list")
    images = SliceDataset(data_dir, names, size, with_label=False)
    sampler = EpochSampler(len(images), p["batch"], seed, "mim")
    total, t0, losses = p["iterations"], time.perf_counter(), []
    swin.train()
    head.train()
    with Progress("pretrain mim", total, unit="it", enabled=progress) as bar:
        for it in range(total):
            lr = poly_lr(p["lr"], it, total)
            for group in optimizer.param_groups:
                group["lr"] = lr
            torch.manual_seed(derive_seed(seed, it, "torch"))
            x, _ = make_batch(images, sampler, it, device, p["augmentation"])
            gen = torch_generator(derive_seed(seed, it, "mask"), device)
            mask = token_block_mask(x.shape[0], size, size, block, swin.patch_size, p["mask_ratio"], gen,
                                    device=device)
            tokens = swin.mask_tokens(swin.embed(x), mask)
            bottleneck, _ = swin.encode(tokens)
            loss = masked_l1(head(bottleneck), x, expand_mask(mask, swin.patch_size))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if not np.isfinite(losses[-1]):
                raise ConfigError(f"pretrain: non-finite loss at iteration {it + 1}; lower pretrain.lr")
            bar.update(advance=1, info=f"loss {losses[-1]:.4f} lr {lr:.2e}")
    out = Path(out)
    info = {"train_seconds": round(time.perf_counter() - t0, 3), "iterations": total,
            "loss_first": losses[0], "loss_last": losses[-1],
            "loss_last_10pct": sum(losses[-max(1, total // 10):]) / max(1, total // 10)}
    save_checkpoint(out, {"model": {k: v.cpu() for k, v in encoder_state(swin).items()}, "layout": ADVMIM_LAYOUT,
                          "settings": settings, **info})
    write_json(out.with_suffix(".json"), {"settings": settings, **info})
    return out
