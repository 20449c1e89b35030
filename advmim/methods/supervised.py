"""Supervised bounds: a single network on labeled slices only (lower) or on all labels (upper)."""

from __future__ import annotations

from advmim.blocks.losses import ce_loss, dice_loss
from advmim.methods import register
from advmim.methods.base import Batch, Method

ARCH_KEY = {"unet": "C", "swin_unet": "S"}


class _Supervised(Method):
    arch: str = "unet"

    @property
    def key(self) -> str:
        return ARCH_KEY[self.arch]

    def build_networks(self):
        return {self.key: self.model(self.arch)}

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        logits = self.nets[self.key](batch.xl)
        ce, dice = ce_loss(logits, batch.yl), dice_loss(logits, batch.yl)
        loss = 0.5 * (ce + dice)
        self.update(loss, [self.key])
        return {"loss": loss.item(), "ce": ce.item(), "dice": dice.item()}


@register("supervised_unet")
class SupervisedUNet(_Supervised):
    """A U-Net on the labeled slices only (lower bound)."""


@register("supervised_swin")
class SupervisedSwin(_Supervised):
    """A Swin-UNet on the labeled slices only."""

    arch = "swin_unet"


@register("full_unet")
class FullUNet(_Supervised):
    """A U-Net on every training slice's label (upper bound)."""


@register("full_swin")
class FullSwin(_Supervised):
    """A Swin-UNet on every training slice's label."""

    arch = "swin_unet"
