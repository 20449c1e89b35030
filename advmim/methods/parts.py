"""Pieces several methods share: the ramped consistency weight, the averaged supervised loss
(SSL4MIS forms), and the one-U-Net / EMA-teacher bases of MT, UA-MT, ICT, Entropy Minimisation
and Deep Co-Training.

Teacher mode: SSL4MIS never switches its EMA teacher to eval mode, so the teacher runs in
*train* mode (dropout active, BatchNorm on batch statistics): its dropout is part of the
teacher's noise (MT), the Monte-Carlo dropout of UA-MT, and ICT's teacher as in SSL4MIS.
"""

from __future__ import annotations

import torch

from advmim.blocks.consistency import consistency_weight
from advmim.blocks.ema import decay_for_horizon, ema_update, make_teacher
from advmim.blocks.losses import ce_loss, dice_loss
from advmim.methods.base import Method


def ramped_weight(method, iteration: int, key: str = "consistency") -> float:
    """``params[key] * sigmoid_rampup(it, rampup_fraction * iterations)`` (SSL4MIS schedule)."""
    p = method.params
    return consistency_weight(p[key], iteration, method.settings["iterations"], p["rampup_fraction"])


def supervised_loss(logits: list[torch.Tensor], target: torch.Tensor, scale: float) -> torch.Tensor:
    """``scale * (CE + Dice)`` averaged over several outputs of the same labeled images."""
    return scale * sum(ce_loss(x, target) + dice_loss(x, target) for x in logits) / len(logits)


def main_output_loss(logits: torch.Tensor, target: torch.Tensor) -> float:
    """For the log only: ``0.5 (CE + Dice)`` of one output, the labeled-only U-Net's supervised
    loss, so that a method averaging over several outputs shows where its evaluated one is."""
    with torch.no_grad():
        return supervised_loss([logits], target, 0.5).item()


class ConsistencyMethod(Method):
    """One U-Net ``C`` trained on ``sup_scale (CE + Dice) + ramped weight * unsupervised term``."""

    def build_networks(self):
        return {"C": self.model("unet")}

    def cons_weight(self, iteration: int) -> float:
        return ramped_weight(self, iteration)

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

    teacher_train_mode = True  # see the module docstring

    def build_networks(self):
        student = self.model("unet")
        return {"C": student, "T": make_teacher(student)}

    def frozen_networks(self) -> list[str]:
        return ["T"]

    def train_mode(self) -> None:
        super().train_mode()
        self.nets["T"].train(self.teacher_train_mode)

    def ema_decay(self) -> float:
        """The teacher's EMA decay: ``ema_decay`` as published (an absolute horizon of
        ``1 / (1 - decay)`` iterations), or with ``ema_horizon_fraction`` (a scale adaptation,
        docs/methods.md) the decay whose horizon is that fraction of the run's iterations."""
        fraction = self.params["ema_horizon_fraction"]
        if fraction is None:
            return self.params["ema_decay"]
        return decay_for_horizon(fraction * self.settings["iterations"])

    def after_update(self, iteration: int) -> None:
        ema_update(self.nets["T"], self.nets["C"], self.ema_decay(), iteration)
