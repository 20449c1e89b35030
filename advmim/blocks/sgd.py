"""SGD with momentum and weight decay: the update of ``torch.optim.SGD`` (dampening 0, no
Nesterov), bit for bit, in a few ``torch._foreach_*`` calls per step.

Why not ``torch.optim.SGD``: every ``torch.optim.Optimizer`` imports ``torch._dynamo`` on its
first step, state-dict or ``add_param_group`` call (about 1.6 s of a one-iteration training job's
3.8 s, benchmarks/README.md), and its CPU path loops over the parameters in Python. The state
dict has ``torch.optim.SGD``'s layout, so checkpoints written by either load into the other.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import torch

# Options torch.optim.SGD stores in each parameter group (kept for checkpoint compatibility).
_FIXED_OPTIONS = {"dampening": 0, "nesterov": False, "maximize": False, "foreach": None,
                  "differentiable": False, "fused": None}


class SGD:
    """``p -= lr * b`` with ``b = momentum * b + (g + weight_decay * p)`` (``b = g + wd * p`` on a
    parameter's first update), for the parameters that have a gradient.

    Duck-types what the training code and ``torch.amp.GradScaler`` use of an optimizer:
    ``param_groups``, ``state``, ``step``, ``zero_grad``, ``state_dict``, ``load_state_dict``.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0):
        group = {"params": list(params), "lr": lr, "momentum": momentum,
                 "weight_decay": weight_decay, **_FIXED_OPTIONS}
        self.param_groups = [group]
        self.state: dict[torch.Tensor, dict] = {}

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            wd, momentum, lr = group["weight_decay"], group["momentum"], group["lr"]
            if wd != 0:
                grads = torch._foreach_add(grads, params, alpha=wd)  # new tensors
            if momentum != 0:
                grads = self._momentum(params, grads, momentum, fresh=wd != 0)
            torch._foreach_add_(params, grads, alpha=-lr)

    def _momentum(self, params: list[torch.Tensor], grads: list[torch.Tensor], momentum: float,
                  fresh: bool) -> list[torch.Tensor]:
        """Update and return the momentum buffers (a gradient's copy on the first update)."""
        bufs = [self.state.get(p, {}).get("momentum_buffer") for p in params]
        old = [i for i, b in enumerate(bufs) if b is not None]
        if old:
            olds = [bufs[i] for i in old]
            torch._foreach_mul_(olds, momentum)
            torch._foreach_add_(olds, [grads[i] for i in old])
        for i, b in enumerate(bufs):
            if b is None:
                bufs[i] = grads[i] if fresh else grads[i].detach().clone()
                self.state.setdefault(params[i], {})["momentum_buffer"] = bufs[i]
        return bufs

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    def _all_params(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict:
        """``{"state": {index: {"momentum_buffer": tensor}}, "param_groups": [...]}`` as torch's."""
        index = {id(p): i for i, p in enumerate(self._all_params())}
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": list(range(start, start + n))})
            start += n
        state = {index[id(p)]: dict(s) for p, s in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and momentum buffers (cast to each parameter's dtype and device)."""
        saved = state_dict["param_groups"]
        sizes = [len(g["params"]) for g in self.param_groups]
        if [len(s["params"]) for s in saved] != sizes:
            raise ValueError("optimizer state dict does not match this optimizer's parameter groups")
        params = self._all_params()
        for group, s in zip(self.param_groups, saved, strict=True):
            group.update({k: copy.deepcopy(v) for k, v in s.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: v.to(dtype=p.dtype, device=p.device, copy=True)
                             if isinstance(v, torch.Tensor) else v for k, v in s.items()}
