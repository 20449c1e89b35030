"""Entropy Minimisation (Vu et al. 2019 / Grandvalet & Bengio 2005), SSL4MIS
``train_entropy_minimization_2D.py``.

Loss = 0.5 (CE + Dice) on labeled + ramped weight * mean normalised entropy (entropy / ln C, as
SSL4MIS's ``entropy_loss``) of the softmax over the whole batch, labeled images included, as
SSL4MIS's script does; ``on_labeled: false`` restricts it to the unlabeled images.
"""

from __future__ import annotations

import math

import torch

from advmim.blocks.losses import entropy_map
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
    MethodCard("entropy_min", "Entropy Minimisation",
        default_params={**CONSISTENCY_DEFAULTS, "on_labeled": True},
        param_rules=CONSISTENCY_RULES,
        param_help={**CONSISTENCY_HELP,
                  "on_labeled": "entropy over the whole batch (SSL4MIS); false: unlabeled only"}),
)


@register("entropy_min")
class EntropyMin(ConsistencyMethod):

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        logits = self.nets["C"](torch.cat([batch.xl, batch.xu]))
        probs = torch.softmax((logits if self.params["on_labeled"] else logits[n:]).float(), dim=1)
        cons = entropy_map(probs).mean() / math.log(self.num_classes)
        return self.step(self.supervised(logits[:n], batch.yl), cons, iteration)
