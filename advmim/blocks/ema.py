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
    # the per-tensor ops t.mul_(alpha).add_(s, alpha=1 - alpha) and t.copy_(s), in a few calls
    teacher_params, student_params = list(teacher.parameters()), list(student.parameters())
    if len(teacher_params) != len(student_params):
        raise ValueError("teacher and student have different parameters")
    torch._foreach_mul_(teacher_params, alpha)
    torch._foreach_add_(teacher_params, [s.detach() for s in student_params], alpha=1.0 - alpha)
    teacher_buffers, student_buffers = list(teacher.buffers()), list(student.buffers())
    if len(teacher_buffers) != len(student_buffers):
        raise ValueError("teacher and student have different buffers")
    if teacher_buffers:  # _foreach_copy_ refuses an empty list (a network without buffers)
        torch._foreach_copy_(teacher_buffers, student_buffers)
    return alpha
