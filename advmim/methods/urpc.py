"""URPC: uncertainty rectified pyramid consistency (Luo et al., MedIA 2022), SSL4MIS
``train_uncertainty_rectified_pyramid_consistency_2D.py``.

A U-Net (``C``, reported) plus deep-supervision heads (``aux``) on its coarser decoder stages;
every side output is upsampled to the input size (nearest, as SSL4MIS's ``F.interpolate``). Unlabeled images: each scale is pulled to the
mean prediction, weighted per pixel by ``exp(-KL)``, plus the mean KL (uncertainty) itself.
"""

from __future__ import annotations

import torch

from advmim.errors import ConfigError
from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.methods.catalog import (
    CONSISTENCY_DEFAULTS,
    CONSISTENCY_HELP,
    CONSISTENCY_RULES,
    MethodCard,
)
from advmim.methods.parts import (
    main_output_loss,
    ramped_weight,
    supervised_loss,
)
from advmim.models.heads import DeepSupervisionHeads

CARDS = (
    MethodCard("urpc", "URPC",
        default_params={**CONSISTENCY_DEFAULTS,
                        # one per side output, coarse to fine (SSL4MIS: dropout, drop, noise)
                        "perturbations": ["dropout", "drop", "noise"],
                        "dropout_p": 0.5,              # SSL4MIS URPC: F.dropout(p=0.5)
                        "upsample_mode": "nearest"},   # side outputs to input size
        param_rules={**CONSISTENCY_RULES, "dropout_p": (0.0, 1.0),
                     "upsample_mode": ("nearest", "bilinear")},
        param_help={**CONSISTENCY_HELP,
                    "perturbations": "perturbation before each side output, coarse to fine",
                    "dropout_p": "p of the element-wise dropout perturbation",
                    "upsample_mode": "how side outputs reach the input size (SSL4MIS: nearest)"}),
)


def pyramid_consistency(logits: list[torch.Tensor]) -> torch.Tensor:
    """Uncertainty-rectified consistency of several same-size outputs, averaged over scales.

    For scale ``s`` with softmax ``p_s`` and mean ``m``: ``D = KL(m || p_s)`` per pixel,
    ``mean((m - p_s)^2 exp(-D)) / mean(exp(-D)) + mean(D)``.
    """
    log_probs = [torch.log_softmax(x.float(), dim=1) for x in logits]
    probs = [lp.exp() for lp in log_probs]
    mean = sum(probs) / len(probs)
    log_mean = torch.log(mean.clamp_min(1e-8))
    total = 0.0
    for p, lp in zip(probs, log_probs, strict=True):
        kl = (mean * (log_mean - lp)).sum(dim=1, keepdim=True)
        weight = torch.exp(-kl)
        total = total + ((mean - p) ** 2 * weight).mean() / (weight.mean() + 1e-8) + kl.mean()
    return total / len(logits)


@register("urpc")
class URPC(Method):
    """Supervised ``0.5 (CE + Dice)`` averaged over all scales; ramped pyramid consistency."""

    def build_networks(self):
        net = self.model("unet")
        stage_channels = list(reversed(net.channels[1:-1]))  # decoder stages except the last
        perturbations = self.params["perturbations"]
        if len(perturbations) != len(stage_channels):
            raise ConfigError(
                f"urpc: {len(perturbations)} perturbations for {len(stage_channels)} side outputs "
                f"(a U-Net with {len(net.channels)} levels has {len(stage_channels)})"
            )
        heads = DeepSupervisionHeads(
            stage_channels, self.num_classes, perturbations,
            dropout_p=self.params["dropout_p"], upsample_mode=self.params["upsample_mode"],
        )
        return {"C": net, "aux": heads}

    def outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Main logits then side outputs (coarse to fine), all at the input size."""
        main, stages = self.nets["C"].decode(self.nets["C"].encode(x), return_stages=True)
        return [main, *self.nets["aux"](stages[:-1], tuple(x.shape[-2:]))]

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        outs = self.outputs(torch.cat([batch.xl, batch.xu], dim=0))
        sup = supervised_loss([o[:n] for o in outs], batch.yl, self.params["sup_scale"])
        cons = pyramid_consistency([o[n:] for o in outs])
        w = ramped_weight(self, iteration)
        loss = sup + w * cons
        self.update(loss, ["C", "aux"])
        return {"loss": loss.item(), "sup": sup.item(), "sup_main": main_output_loss(outs[0][:n], batch.yl),
                "consistency": cons.item(), "consistency_weight": w}
