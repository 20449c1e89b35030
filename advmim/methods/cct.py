"""CCT: cross-consistency training (Ouali et al., CVPR 2020), SSL4MIS 2D recipe.

A U-Net (``C``, reported) plus three auxiliary decoders (``aux``) that decode C's encoder
features after a perturbation each (feature noise, dropout, feature drop).
"""

from __future__ import annotations

import torch

from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.models.heads import AuxDecoders
from advmim.train.consistency import consistency_weight
from advmim.train.losses import ce_loss, dice_loss, softmax_mse


def ramped_weight(method: Method, iteration: int, key: str = "consistency") -> float:
    """``params[key] * sigmoid_rampup(it, rampup_fraction * iterations)`` (SSL4MIS schedule)."""
    p = method.params
    return consistency_weight(p[key], iteration, method.settings["iterations"], p["rampup_fraction"])


def supervised_loss(logits: list[torch.Tensor], target: torch.Tensor, scale: float) -> torch.Tensor:
    """``scale * (CE + Dice)`` averaged over several outputs of the same labeled images."""
    return scale * sum(ce_loss(x, target) + dice_loss(x, target) for x in logits) / len(logits)


@register("cct")
class CCT(Method):
    """Supervised loss on all decoders (labeled); MSE of aux to detached main softmax (unlabeled)."""

    display_name = "CCT"
    default_params = {
        "consistency": 0.1,
        "rampup_fraction": 1.0,
        "sup_scale": 0.5,
        "perturbations": ["noise", "dropout", "drop"],
    }

    def build_networks(self):
        net = self.model("unet")
        unet = self.settings.get("models", {}).get("unet", {})
        aux = AuxDecoders(
            net.channels, self.num_classes, self.params["perturbations"],
            dropout=unet.get("decoder_dropout", 0.0), upsample=unet.get("upsample", "bilinear"),
        )
        return {"C": net, "aux": aux}

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        x = torch.cat([batch.xl, batch.xu], dim=0)
        feats = self.nets["C"].encode(x)
        main = self.nets["C"].decode(feats)
        aux = self.nets["aux"](feats)
        sup = supervised_loss([o[:n] for o in [main, *aux]], batch.yl, self.params["sup_scale"])
        target = main[n:].detach()
        cons = sum(softmax_mse(o[n:], target) for o in aux) / len(aux)
        w = ramped_weight(self, iteration)
        loss = sup + w * cons
        self.update(loss, ["C", "aux"])
        return {"loss": loss.item(), "sup": sup.item(), "consistency": cons.item(),
                "consistency_weight": w}
