"""CTCT: cross teaching between a CNN (U-Net, C) and a transformer (Swin-UNet, S)."""

from __future__ import annotations

from advmim.blocks.losses import ce_loss, dice_loss, pseudo_labels
from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.methods.catalog import INF, SWIN_AND_CNN, MethodCard
from advmim.methods.parts import ramped_weight

CARDS = (
    MethodCard("ctct", "CTCT", **SWIN_AND_CNN,
        default_params={"cross_weight": 0.1, "rampup_fraction": 1.0, "sup_scale": 0.5},
        param_rules={"cross_weight": (0.0, INF), "rampup_fraction": (0.0, INF),
                   "sup_scale": (0.0, INF)},
        param_help={"cross_weight": "weight of the cross-teaching Dice once ramped up",
                  "rampup_fraction": "fraction of the run over which that weight ramps up "
                                     "(SSL4MIS sigmoid)",
                  "sup_scale": "factor of each network's supervised CE + Dice"}),
)


@register("ctct")
class CTCT(Method):
    """Each network learns from labels and from the other's hard pseudo-labels (Dice).

    SSL4MIS recipe: supervised 0.5 (CE + Dice), cross-teaching weight 0.1 with a sigmoid ramp-up
    over ``rampup_fraction`` of the iterations.
    """

    def build_networks(self):
        return {"S": self.model("swin_unet"), "C": self.model("unet")}

    def cross_weight(self, iteration: int) -> float:
        return ramped_weight(self, iteration, "cross_weight")

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        x = _cat(batch.xl, batch.xu)
        s_all, c_all = self.nets["S"](x), self.nets["C"](x)
        s_l, s_u, c_l, c_u = s_all[:n], s_all[n:], c_all[:n], c_all[n:]
        scale = self.params["sup_scale"]
        sup_s = scale * (ce_loss(s_l, batch.yl) + dice_loss(s_l, batch.yl))
        sup_c = scale * (ce_loss(c_l, batch.yl) + dice_loss(c_l, batch.yl))
        y_s, _ = pseudo_labels(s_u)
        y_c, _ = pseudo_labels(c_u)
        w = self.cross_weight(iteration)
        cross_s, cross_c = dice_loss(s_u, y_c), dice_loss(c_u, y_s)
        loss = sup_s + sup_c + w * (cross_s + cross_c)
        self.update(loss, ["S", "C"])
        return {
            "loss": loss.item(), "sup_S": sup_s.item(), "sup_C": sup_c.item(),
            "cross_S": cross_s.item(), "cross_C": cross_c.item(), "cross_weight": w,
        }


def _cat(*tensors):
    import torch

    return torch.cat([t for t in tensors if t is not None], dim=0)
