"""UA-MT (Yu et al. 2019), SSL4MIS ``train_uncertainty_aware_mean_teacher_2D.py``: Mean Teacher
whose consistency skips uncertain teacher pixels.

As SSL4MIS: the teacher's target comes from its own pass on noisy unlabeled images; the
uncertainty is the entropy of the mean of ``mc_passes`` (8) further noisy passes, run two at a
time (the unlabeled batch repeated twice per call); the threshold ramps to ``ln 2`` (a leftover
of the binary 3D original; ``threshold_ln_classes: true`` uses ``ln C``), and the masked
squared softmax difference is summed and divided by ``2 x masked pixels``
(``consistency_norm: mean`` divides by ``C x masked pixels`` instead).
"""

from __future__ import annotations

import math

import torch

from advmim.blocks.consistency import input_noise
from advmim.blocks.losses import entropy_map
from advmim.blocks.schedule import sigmoid_rampup
from advmim.methods import register
from advmim.methods.base import Batch
from advmim.methods.catalog import (
    TEACHER_DEFAULTS,
    TEACHER_HELP,
    TEACHER_RULES,
    UAMT_NORMS,
    MethodCard,
)
from advmim.methods.parts import TeacherMethod

CARDS = (
    MethodCard("uamt", "UA-MT",
        default_params={**TEACHER_DEFAULTS, "mc_passes": 8,
                        "threshold_ln_classes": False,   # SSL4MIS: ln 2 whatever the classes
                        "consistency_norm": "ssl4mis"},  # sum / (2 x masked pixels)
        param_rules={**TEACHER_RULES, "mc_passes": (2, 64), "consistency_norm": UAMT_NORMS},
        param_help={**TEACHER_HELP,
                    "mc_passes": "noisy teacher passes whose mean gives the uncertainty (even)",
                    "threshold_ln_classes": "threshold ramps to ln C instead of SSL4MIS's ln 2",
                    "consistency_norm": "ssl4mis: masked sum / (2 x masked pixels); mean: over "
                                        "pixels and classes"}),
)



def uncertainty_threshold(iteration: int, iterations: int, classes: float = 2) -> float:
    """``(0.75 + 0.25 * sigmoid_rampup(it, iterations)) * ln(classes)`` (SSL4MIS: classes = 2)."""
    return (0.75 + 0.25 * sigmoid_rampup(iteration, iterations)) * math.log(classes)


def masked_mse(
    probs: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, norm: str = "ssl4mis"
) -> torch.Tensor:
    """Squared difference summed over the pixels where ``mask`` (B, H, W) is 1 and the classes,
    divided by ``2 x masked`` (``ssl4mis``) or ``C x masked`` (``mean``); 0 if none is masked."""
    if norm not in UAMT_NORMS:
        raise ValueError(f"uamt: consistency_norm must be one of {', '.join(UAMT_NORMS)}, got {norm!r}")
    dist = ((probs - target) ** 2).sum(dim=1)
    per_pixel = 2 if norm == "ssl4mis" else probs.shape[1]
    return (mask * dist).sum() / (per_pixel * mask.sum() + 1e-16)


@register("uamt")
class UAMT(TeacherMethod):

    def teacher_passes(self, xu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher target probabilities and the (B, H, W) uncertainty, SSL4MIS's calls."""
        teacher, t = self.nets["T"], self.params["mc_passes"]
        if t < 2 or t % 2:
            raise ValueError(f"uamt: mc_passes must be an even number >= 2, got {t}")
        with torch.no_grad():
            target = torch.softmax(teacher(input_noise(xu)).float(), dim=1)
            pair = xu.repeat(2, 1, 1, 1)
            probs = torch.cat(
                [torch.softmax(teacher(input_noise(pair)).float(), dim=1) for _ in range(t // 2)]
            )
        mc = probs.reshape(t, xu.shape[0], *probs.shape[1:]).mean(dim=0)
        return target, entropy_map(mc)

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        logits = self.nets["C"](torch.cat([batch.xl, batch.xu]))
        target, uncertainty = self.teacher_passes(batch.xu)
        classes = self.num_classes if self.params["threshold_ln_classes"] else 2
        threshold = uncertainty_threshold(iteration, self.settings["iterations"], classes)
        mask = (uncertainty < threshold).float()
        probs = torch.softmax(logits[n:].float(), dim=1)
        cons = masked_mse(probs, target, mask, self.params["consistency_norm"])
        logged = self.step(self.supervised(logits[:n], batch.yl), cons, iteration)
        return {**logged, "threshold": threshold, "certain": mask.mean().item()}
