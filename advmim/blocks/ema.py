"""EMA teachers (Mean Teacher family): a frozen copy of the student tracking its weights."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_teacher(student: nn.Module) -> nn.Module:
    """A copy of ``student`` without gradients (its EMA teacher).

    SSL4MIS builds the teacher from its own random init; its first update uses alpha 0 (below),
    so after step 0 both start from the student's weights either way.
    """
    teacher = copy.deepcopy(student)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def decay_for_horizon(horizon: float) -> float:
    """The EMA decay ``1 - 1 / horizon`` whose time constant is ``horizon`` updates: the last
    ``horizon`` updates carry ``1 - decay ** horizon`` ~ 1 - 1/e ~ 63 % of the teacher's weights.
    A horizon below one update gives decay 0 (the teacher copies the student)."""
    return 1.0 - 1.0 / max(horizon, 1.0)


def ema_alpha(step: int, decay: float) -> float:
    """SSL4MIS ``min(1 - 1 / (step + 1), decay)``: a true average while ``step`` is small."""
    return min(1.0 - 1.0 / (step + 1), decay)


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, decay: float, step: int) -> float:
    """``teacher = alpha * teacher + (1 - alpha) * student`` on parameters; buffers copied.

    Buffers (BatchNorm running statistics) are copied from the student. Returns alpha.
    """
    alpha = ema_alpha(step, decay)
    for t, s in zip(teacher.parameters(), student.parameters(), strict=True):
        t.mul_(alpha).add_(s.detach(), alpha=1.0 - alpha)
    for t, s in zip(teacher.buffers(), student.buffers(), strict=True):
        t.copy_(s)
    return alpha
