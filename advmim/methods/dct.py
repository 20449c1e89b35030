"""Deep Co-Training as SSL4MIS runs it (``train_deep_co_training_2D.py``): one U-Net, two views.

Each iteration the unlabeled images are rotated by ``k * 90`` degrees (``k`` drawn uniformly
from 0..3) and passed through the network a second time; the consistency is the MSE between
the softmax of the rotated view and the rotated softmax of the original view, each side
detached in turn (``0.5 (MSE(sg(a), b) + MSE(a, sg(b)))``). This is SSL4MIS's two-view reading
of Qiao et al. (ECCV 2018), not the paper's two-network co-training with adversarial views.
"""

from __future__ import annotations

import torch

from advmim.methods import register
from advmim.methods.base import Batch
from advmim.methods.catalog import (
    CONSISTENCY_DEFAULTS,
    CONSISTENCY_HELP,
    CONSISTENCY_RULES,
    MethodCard,
)
from advmim.methods.parts import ConsistencyMethod

CARDS = (
    MethodCard("dct", "Deep Co-Training", default_params={**CONSISTENCY_DEFAULTS},
        param_rules=CONSISTENCY_RULES, param_help=CONSISTENCY_HELP),
)


def rotation_consistency(rotated_probs: torch.Tensor, probs: torch.Tensor, k: int) -> torch.Tensor:
    """``0.5 (mean((sg(r) - rot(p))^2) + mean((r - sg(rot(p)))^2))``, ``rot`` = rot90 by ``k``."""
    turned = torch.rot90(probs, k, dims=(2, 3))
    return 0.5 * (
        ((rotated_probs.detach() - turned) ** 2).mean()
        + ((rotated_probs - turned.detach()) ** 2).mean()
    )


@register("dct")
class DeepCoTraining(ConsistencyMethod):
    """``0.5 (CE + Dice)`` on labels + ramped rot90 two-view consistency on unlabeled images."""

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        net = self.nets["C"]
        logits = net(torch.cat([batch.xl, batch.xu]))
        k = int(torch.randint(0, 4, (1,)).item())  # SSL4MIS: random.randrange(0, 4)
        rotated = net(torch.rot90(batch.xu, k, dims=(2, 3)))
        cons = rotation_consistency(
            torch.softmax(rotated.float(), 1), torch.softmax(logits[n:].float(), 1), k
        )
        logged = self.step(self.supervised(logits[:n], batch.yl), cons, iteration)
        return {**logged, "rotation": k}
