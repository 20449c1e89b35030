"""Mean Teacher (Tarvainen & Valpola 2017), SSL4MIS recipe, and the EMA-teacher base class.

Teacher mode: SSL4MIS never switches its EMA teacher to eval mode, so the teacher runs in
*train* mode (dropout active, BatchNorm on batch statistics): its dropout is part of the
teacher's noise (MT), the Monte-Carlo dropout of UA-MT, and ICT's teacher as in SSL4MIS.
SSL4MIS's 2D MT script (``train_mean_teacher_2D.py``) also zeroes the consistency for its first
1000 of 30000 iterations: ``consistency_off_fraction`` (1/30 of the run; 0 turns it off).

``ConsistencyMethod`` (one U-Net, supervised + ramped unsupervised term) and ``TeacherMethod``
(+ EMA teacher) are the bases of MT, UA-MT, ICT and Entropy Minimisation.
"""

from __future__ import annotations

import torch

from advmim.methods import register
from advmim.methods.base import Batch, Method
from advmim.train.consistency import consistency_weight, input_noise
from advmim.train.ema import ema_update, make_teacher
from advmim.train.losses import ce_loss, dice_loss, softmax_mse

CONSISTENCY_DEFAULTS = {"consistency": 0.1, "rampup_fraction": 1.0, "sup_scale": 0.5}
TEACHER_DEFAULTS = {**CONSISTENCY_DEFAULTS, "ema_decay": 0.99}


class ConsistencyMethod(Method):
    """One U-Net ``C`` trained on ``sup_scale (CE + Dice) + ramped weight * unsupervised term``."""

    default_params = dict(CONSISTENCY_DEFAULTS)

    def build_networks(self):
        return {"C": self.model("unet")}

    def cons_weight(self, iteration: int) -> float:
        p = self.params
        return consistency_weight(
            p["consistency"], iteration, self.settings["iterations"], p["rampup_fraction"]
        )

    def supervised(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, torch.Tensor]:
        """``sup_scale * (CE + Dice)`` and its parts."""
        ce, dice = ce_loss(logits, labels), dice_loss(logits, labels)
        return {"sup": self.params["sup_scale"] * (ce + dice), "ce": ce, "dice": dice}

    def step(self, sup: dict[str, torch.Tensor], cons: torch.Tensor, iteration: int) -> dict:
        """Update ``C`` on ``sup + w * cons``, then :meth:`after_update`; the values to log."""
        w = self.cons_weight(iteration)
        loss = sup["sup"] + w * cons
        self.update(loss, ["C"])
        self.after_update(iteration)
        return {"loss": loss.item(), **{k: v.item() for k, v in sup.items()},
                "cons": cons.item(), "cons_weight": w}

    def after_update(self, iteration: int) -> None:
        """Hook run after each optimiser step."""


class TeacherMethod(ConsistencyMethod):
    """Student ``C`` plus an EMA teacher ``T`` (no optimiser), updated after each step."""

    default_params = dict(TEACHER_DEFAULTS)
    teacher_train_mode = True  # see the module docstring

    def build_networks(self):
        student = self.model("unet")
        return {"C": student, "T": make_teacher(student)}

    def frozen_networks(self) -> list[str]:
        return ["T"]

    def train_mode(self) -> None:
        super().train_mode()
        self.nets["T"].train(self.teacher_train_mode)

    def after_update(self, iteration: int) -> None:
        ema_update(self.nets["T"], self.nets["C"], self.params["ema_decay"], iteration)


@register("mean_teacher")
class MeanTeacher(TeacherMethod):
    """Softmax-MSE between the student and the EMA teacher (on noisy input) on unlabeled images."""

    display_name = "Mean Teacher"
    # SSL4MIS: consistency_loss = 0 while iter_num < 1000 (of 30000)
    default_params = {**TEACHER_DEFAULTS, "consistency_off_fraction": 1000 / 30000}

    def train_step(self, batch: Batch, iteration: int) -> dict[str, float]:
        n = batch.xl.shape[0]
        logits = self.nets["C"](torch.cat([batch.xl, batch.xu]))
        with torch.no_grad():
            target = self.nets["T"](input_noise(batch.xu))
        cons = softmax_mse(logits[n:], target)
        if iteration < self.params["consistency_off_fraction"] * self.settings["iterations"]:
            cons = cons * 0.0
        return self.step(self.supervised(logits[:n], batch.yl), cons, iteration)
