"""CPS: cross pseudo supervision (Chen et al., CVPR 2021), SSL4MIS ``train_cross_pseudo_supervision_2D.py``.

Two U-Nets built like any other (PyTorch's default initialisation; they differ because they are
drawn one after the other from the seeded RNG). SSL4MIS removed its Kaiming / Xavier
re-initialisation as a bug (commit 9a74d15, "fixed a bug for CPS"); ``init: kaiming_xavier``
brings it back for comparison only.
"""

from __future__ import annotations

import torch

from advmim.blocks.losses import ce_loss, pseudo_labels
from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.methods.catalog import (
    CONSISTENCY_DEFAULTS,
    CONSISTENCY_HELP,
    CONSISTENCY_RULES,
    CPS_INITS,
    MethodCard,
)
from advmim.methods.parts import (
    ramped_weight,
    supervised_loss,
)
from advmim.models.heads import init_weights

CARDS = (
    MethodCard("cps", "CPS",
        default_params={**CONSISTENCY_DEFAULTS, "cross_on_labeled": False, "init": "default"},
        param_rules={**CONSISTENCY_RULES, "init": CPS_INITS},
        param_help={**CONSISTENCY_HELP,
                    "cross_on_labeled": "pseudo-supervision on labeled images too (CPS paper; "
                                        "SSL4MIS: unlabeled only)",
                    "init": "default: PyTorch init (SSL4MIS); kaiming_xavier: the "
                            "re-initialisation SSL4MIS removed"}),
)


@register("cps")
class CPS(Method):
    """Each net: ``0.5 (CE + Dice)`` on labels + ramped CE on the other net's argmax.

    The pseudo-supervision covers the unlabeled images only (SSL4MIS); ``cross_on_labeled``
    extends it to the labeled images as well (the CPS paper's formulation).
    """

    def build_networks(self):
        init = self.params["init"]
        if init not in CPS_INITS:
            raise ValueError(f"cps: init must be one of {', '.join(CPS_INITS)}, got {init!r}")
        nets = {"C": self.model("unet"), "C2": self.model("unet")}
        if init == "kaiming_xavier":
            init_weights(nets["C"], "kaiming")
            init_weights(nets["C2"], "xavier")
        return nets

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        x = torch.cat([batch.xl, batch.xu], dim=0)
        out1, out2 = self.nets["C"](x), self.nets["C2"](x)
        scale = self.params["sup_scale"]
        sup1 = supervised_loss([out1[:n]], batch.yl, scale)
        sup2 = supervised_loss([out2[:n]], batch.yl, scale)
        start = 0 if self.params["cross_on_labeled"] else n
        y1, _ = pseudo_labels(out1[start:])
        y2, _ = pseudo_labels(out2[start:])
        cross1, cross2 = ce_loss(out1[start:], y2), ce_loss(out2[start:], y1)
        w = ramped_weight(self, iteration)
        loss = sup1 + sup2 + w * (cross1 + cross2)
        self.update(loss, ["C", "C2"])
        return {"loss": loss.item(), "sup_C": sup1.item(), "sup_C2": sup2.item(),
                "cps_C": cross1.item(), "cps_C2": cross2.item(), "consistency_weight": w}
