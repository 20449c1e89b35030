"""Mean Teacher (Tarvainen & Valpola 2017), SSL4MIS ``train_mean_teacher_2D.py``.

The EMA teacher runs in train mode as in SSL4MIS (see :class:`advmim.methods.parts.TeacherMethod`).
SSL4MIS's 2D MT script also zeroes the consistency for its first 1000 of 30000 iterations:
``consistency_off_fraction`` (1/30 of the run; 0 turns it off).
"""

from __future__ import annotations

import torch

from advmim.blocks.consistency import input_noise
from advmim.blocks.losses import softmax_mse
from advmim.methods import register
from advmim.methods.base import Batch
from advmim.methods.catalog import TEACHER_DEFAULTS, TEACHER_HELP, TEACHER_RULES, MethodCard
from advmim.methods.parts import TeacherMethod

CARDS = (
    MethodCard("mean_teacher", "Mean Teacher",
        # SSL4MIS: consistency_loss = 0 while iter_num < 1000 (of 30000)
        default_params={**TEACHER_DEFAULTS, "consistency_off_fraction": 1000 / 30000},
        param_rules={**TEACHER_RULES, "consistency_off_fraction": (0.0, 1.0)},
        param_help={**TEACHER_HELP, "consistency_off_fraction":
                  "consistency off for this first fraction of the run (SSL4MIS: 1000 of 30000)"}),
)


@register("mean_teacher")
class MeanTeacher(TeacherMethod):
    """Softmax-MSE between the student and the EMA teacher (on noisy input) on unlabeled images."""

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        logits = self.nets["C"](torch.cat([batch.xl, batch.xu]))
        with torch.no_grad():
            target = self.nets["T"](input_noise(batch.xu))
        cons = softmax_mse(logits[n:], target)
        if iteration < self.params["consistency_off_fraction"] * self.settings["iterations"]:
            cons = cons * 0.0
        return self.step(self.supervised(logits[:n], batch.yl), cons, iteration)
