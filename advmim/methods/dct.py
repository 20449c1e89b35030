"""Deep Co-Training (Qiao et al., ECCV 2018) for segmentation: two U-Nets, two views.

The co-training term is the Jensen-Shannon divergence between the two networks' softmax maps
on unlabeled images. The paper's view-difference term (adversarial examples of one network
fed to the other) is not implemented: it doubles the cost and is not part of the
SSL4MIS-style baselines this benchmark compares against.
"""

from __future__ import annotations

import torch

from advmim.methods import register
from advmim.methods.base import Batch
from advmim.methods.cct import ramped_weight
from advmim.methods.cps import TwoUNets
from advmim.train.losses import entropy_map


def js_divergence(logits_a: torch.Tensor, logits_b: torch.Tensor) -> torch.Tensor:
    """Pixel-mean ``H((p + q) / 2) - (H(p) + H(q)) / 2`` of the two softmax maps (>= 0)."""
    p, q = torch.softmax(logits_a.float(), 1), torch.softmax(logits_b.float(), 1)
    return (entropy_map((p + q) / 2) - (entropy_map(p) + entropy_map(q)) / 2).mean()


@register("dct")
class DeepCoTraining(TwoUNets):
    """Each net: ``0.5 (CE + Dice)`` on labels; both: ramped JS divergence on unlabeled."""

    display_name = "Deep Co-Training"
    default_params = {"consistency": 0.1, "rampup_fraction": 1.0, "sup_scale": 0.5}

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n, out1, out2, sup1, sup2 = self.forward_pair(batch)
        cot = js_divergence(out1[n:], out2[n:])
        w = ramped_weight(self, iteration)
        loss = sup1 + sup2 + w * cot
        self.update(loss, ["C", "C2"])
        return {"loss": loss.item(), "sup_C": sup1.item(), "sup_C2": sup2.item(),
                "cot": cot.item(), "consistency_weight": w}
