"""advmim.blocks.sgd.SGD: torch.optim.SGD's update bit for bit, and interchangeable state dicts."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from advmim.blocks.sgd import SGD


def _net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 3, 1),
                        nn.Linear(6, 6))  # the Linear gets no gradient on some steps
    return net.to(memory_format=torch.channels_last)


def _steps(net: nn.Module, opt, steps: range) -> None:
    for it in steps:
        gen = torch.Generator().manual_seed(it)
        x = torch.rand(2, 1, 6, 6, generator=gen)
        out = net[:4](x)
        if it % 2:
            out = net[4](out)  # the Linear takes part on odd steps only
        loss = (out - torch.rand(out.shape, generator=gen)).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for group in opt.param_groups:
            group["lr"] = 0.05 * (1 - it / 10) ** 0.9
        opt.step()


@pytest.mark.parametrize("weight_decay", [0.0, 1e-4])
def test_updates_equal_torch_sgd_bit_for_bit(weight_decay):
    ours, theirs = _net(), _net()
    opt_ours = SGD(ours.parameters(), lr=0.05, momentum=0.9, weight_decay=weight_decay)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, weight_decay=weight_decay)
    _steps(ours, opt_ours, range(6))
    _steps(theirs, opt_theirs, range(6))
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert torch.equal(a, b)
    assert any(p.abs().sum() > 0 for p in ours.parameters())


def test_state_dicts_load_into_each_other():
    """A checkpoint of torch.optim.SGD resumes in ours and the reverse, continuing identically."""
    nets = [_net() for _ in range(3)]
    opt_torch = torch.optim.SGD(nets[0].parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    _steps(nets[0], opt_torch, range(3))
    torch_state = copy.deepcopy(opt_torch.state_dict())  # as written to and read from disk

    nets[1].load_state_dict(nets[0].state_dict())
    ours = SGD(nets[1].parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    ours.load_state_dict(torch_state)
    ours_state = copy.deepcopy(ours.state_dict())
    assert ours_state["param_groups"] == torch_state["param_groups"]
    assert sorted(ours_state["state"]) == sorted(torch_state["state"])

    nets[2].load_state_dict(nets[0].state_dict())
    back = torch.optim.SGD(nets[2].parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    back.load_state_dict(ours_state)
    for net, opt in zip(nets, (opt_torch, ours, back), strict=True):
        _steps(net, opt, range(3, 6))
    for a, b, c in zip(*(n.parameters() for n in nets), strict=True):
        assert torch.equal(a, b) and torch.equal(a, c)


def test_a_mismatched_state_dict_is_refused():
    opt = SGD(_net().parameters(), lr=0.1, momentum=0.9)
    other = SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict(other.state_dict())


def test_grad_scaler_steps_it_like_torch_sgd():
    """fp16 training on a GPU steps the optimisers through torch.amp.GradScaler (duck-typed)."""
    nets = [_net(), _net()]
    opts = [SGD(nets[0].parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4),
            torch.optim.SGD(nets[1].parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)]
    for net, opt in zip(nets, opts, strict=True):
        scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
        for it in range(3):
            x = torch.rand(2, 1, 6, 6, generator=torch.Generator().manual_seed(it))
            opt.zero_grad(set_to_none=True)
            scaler.scale(net[:4](x).square().mean()).backward()
            scaler.unscale_(opt)
            scaler.step(opt)
            scaler.update()
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(a, b)
