"""CPS: cross pseudo supervision (Chen et al., CVPR 2021) between two differently initialised U-Nets."""

from __future__ import annotations

import torch

from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.methods.cct import ramped_weight, supervised_loss
from advmim.models.heads import init_weights
from advmim.train.losses import ce_loss, pseudo_labels


class TwoUNets(Method):
    """Two differently initialised U-Nets (``C`` reported, ``C2``), each supervised on labels."""

    def build_networks(self):
        return {
            "C": init_weights(self.model("unet"), "kaiming"),
            "C2": init_weights(self.model("unet"), "xavier"),
        }

    def forward_pair(self, batch: Batch):
        """(n labeled, logits of C, logits of C2, supervised loss of C, of C2) on xl + xu."""
        n = batch.xl.shape[0]
        x = torch.cat([batch.xl, batch.xu], dim=0)
        out1, out2 = self.nets["C"](x), self.nets["C2"](x)
        scale = self.params["sup_scale"]
        sup1 = supervised_loss([out1[:n]], batch.yl, scale)
        sup2 = supervised_loss([out2[:n]], batch.yl, scale)
        return n, out1, out2, sup1, sup2


@register("cps")
class CPS(TwoUNets):
    """Each net: ``0.5 (CE + Dice)`` on labels + ramped CE on the other net's argmax.

    ``C`` (reported) starts from Kaiming-normal, ``C2`` from Xavier-normal weights (SSL4MIS).
    The pseudo-supervision covers labeled and unlabeled images (CPS paper) unless
    ``cross_on_labeled`` is false (SSL4MIS: unlabeled only).
    """

    display_name = "CPS"
    default_params = {
        "consistency": 0.1,
        "rampup_fraction": 1.0,
        "sup_scale": 0.5,
        "cross_on_labeled": True,
    }

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n, out1, out2, sup1, sup2 = self.forward_pair(batch)
        start = 0 if self.params["cross_on_labeled"] else n
        y1, _ = pseudo_labels(out1[start:])
        y2, _ = pseudo_labels(out2[start:])
        cross1, cross2 = ce_loss(out1[start:], y2), ce_loss(out2[start:], y1)
        w = ramped_weight(self, iteration)
        loss = sup1 + sup2 + w * (cross1 + cross2)
        self.update(loss, ["C", "C2"])
        return {"loss": loss.item(), "sup_C": sup1.item(), "sup_C2": sup2.item(),
                "cps_C": cross1.item(), "cps_C2": cross2.item(), "consistency_weight": w}
