"""UA-MT (Yu et al. 2019): Mean Teacher whose consistency skips uncertain teacher pixels.

Uncertainty = entropy of the mean of T stochastic teacher passes (MC dropout + input noise),
run as one concatenated batch. Differences from SSL4MIS's 2D script (kept from its 3D/binary
origin there): the threshold uses ln(C) for C classes (SSL4MIS: ln 2), and the masked MSE is the
mean over masked pixels and classes (SSL4MIS divides the sum by 2 * mask pixels).
"""

from __future__ import annotations

import math

import torch

from advmim.methods import register
from advmim.methods.base import Batch
from advmim.methods.mean_teacher import TEACHER_DEFAULTS, TeacherMethod
from advmim.train.consistency import input_noise
from advmim.train.losses import entropy_map
from advmim.train.schedule import sigmoid_rampup


def uncertainty_threshold(iteration: int, iterations: int, num_classes: int) -> float:
    """``(0.75 + 0.25 * sigmoid_rampup(it, iterations)) * ln(C)``."""
    return (0.75 + 0.25 * sigmoid_rampup(iteration, iterations)) * math.log(num_classes)


def masked_mse(probs: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared difference over the pixels where ``mask`` (B, H, W) is 1 (0 if none)."""
    dist = ((probs - target) ** 2).sum(dim=1)
    return (mask * dist).sum() / (probs.shape[1] * mask.sum() + 1e-16)


@register("uamt")
class UAMT(TeacherMethod):
    display_name = "UA-MT"
    default_params = {**TEACHER_DEFAULTS, "mc_passes": 8}

    def teacher_passes(self, xu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher target probabilities and the (B, H, W) uncertainty, from one batched pass."""
        t, b = self.params["mc_passes"], xu.shape[0]
        with torch.no_grad():
            x = input_noise(xu.repeat(t + 1, 1, 1, 1))
            probs = torch.softmax(self.nets["T"](x).float(), dim=1)
        mc = probs[b:].reshape(t, b, *probs.shape[1:]).mean(dim=0)
        return probs[:b], entropy_map(mc)

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        logits = self.nets["C"](torch.cat([batch.xl, batch.xu]))
        target, uncertainty = self.teacher_passes(batch.xu)
        threshold = uncertainty_threshold(iteration, self.settings["iterations"], self.num_classes)
        mask = (uncertainty < threshold).float()
        cons = masked_mse(torch.softmax(logits[n:].float(), dim=1), target, mask)
        logged = self.step(self.supervised(logits[:n], batch.yl), cons, iteration)
        return {**logged, "threshold": threshold, "certain": mask.mean().item()}
