"""ICT (Verma et al. 2019): the student on a mixup of unlabeled images matches the mixup of the
EMA teacher's predictions. SSL4MIS recipe: per-pair lambda ~ Beta(0.2, 0.2), the two halves of
the unlabeled batch are mixed, the teacher sees clean images, one half per call
(SSL4MIS ``train_interpolation_consistency_training_2D.py``).
"""

from __future__ import annotations

import numpy as np
import torch

from advmim.blocks.seeding import derive_seed
from advmim.errors import ConfigError
from advmim.methods import register
from advmim.methods.base import Batch
from advmim.methods.catalog import INF, TEACHER_DEFAULTS, TEACHER_HELP, TEACHER_RULES, MethodCard
from advmim.methods.parts import TeacherMethod

CARDS = (
    MethodCard("ict", "ICT",
        default_params={**TEACHER_DEFAULTS, "ict_alpha": 0.2},
        param_rules={**TEACHER_RULES, "ict_alpha": (1e-6, INF)},
        param_help={**TEACHER_HELP, "ict_alpha": "mixup factors ~ Beta(alpha, alpha)"}),
)


def mix(a: torch.Tensor, b: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """``a * (1 - lam) + b * lam`` with one lambda per sample (lam shape (B,))."""
    lam = lam.to(a.dtype).view(-1, *([1] * (a.dim() - 1)))
    return a * (1.0 - lam) + b * lam


@register("ict")
class ICT(TeacherMethod):

    def __init__(self, settings: dict, device: torch.device):
        if settings["batch_unlabeled"] < 2 or settings["batch_unlabeled"] % 2:
            raise ConfigError(
                f"ict: batch_unlabeled must be even and >= 2 (mixes two halves), "
                f"got {settings['batch_unlabeled']}"
            )
        super().__init__(settings, device)

    def mix_factors(self, iteration: int, pairs: int) -> torch.Tensor:
        """Beta(alpha, alpha) draws, a function of (run seed, iteration)."""
        rng = np.random.default_rng(derive_seed(self.settings["seed"], iteration, "ict"))
        alpha = self.params["ict_alpha"]
        return torch.from_numpy(rng.beta(alpha, alpha, size=pairs)).float().to(self.device)

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n, half = batch.xl.shape[0], batch.xu.shape[0] // 2
        u0, u1 = batch.xu[:half], batch.xu[half:]
        lam = self.mix_factors(iteration, half)
        logits = self.nets["C"](torch.cat([batch.xl, mix(u0, u1, lam)]))
        with torch.no_grad():  # one teacher call per half, as SSL4MIS (BN statistics per call)
            p0, p1 = (torch.softmax(self.nets["T"](u).float(), dim=1) for u in (u0, u1))
            target = mix(p0, p1, lam)
        cons = torch.mean((torch.softmax(logits[n:].float(), dim=1) - target) ** 2)
        return self.step(self.supervised(logits[:n], batch.yl), cons, iteration)
