"""Supervised bounds: a single network on labeled slices only (lower) or on all labels (upper)."""

from __future__ import annotations

from advmim.blocks.losses import ce_loss, dice_loss
from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.methods.catalog import SUPERVISED_ONLY, MethodCard

CARDS = (
    MethodCard("supervised_unet", "U-Net (labeled only)", group="lower", **SUPERVISED_ONLY),
    MethodCard("supervised_swin", "Swin-UNet (labeled only)", group="lower",
        reported={"S": ""}, networks={"S": "swin_unet"}, **SUPERVISED_ONLY),
    MethodCard("full_unet", "U-Net (all labels)", group="upper", all_labels=True,
        **SUPERVISED_ONLY),
    MethodCard("full_swin", "Swin-UNet (all labels)", group="upper", all_labels=True,
        reported={"S": ""}, networks={"S": "swin_unet"}, **SUPERVISED_ONLY),
)


class _Supervised(Method):
    """The one network its card names (key and architecture)."""

    @property
    def key(self) -> str:
        (key,) = self.networks
        return key

    def build_networks(self):
        return {self.key: self.model(self.networks[self.key])}

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


@register("full_unet")
class FullUNet(_Supervised):
    """A U-Net on every training slice's label (upper bound)."""


@register("full_swin")
class FullSwin(_Supervised):
    """A Swin-UNet on every training slice's label."""
