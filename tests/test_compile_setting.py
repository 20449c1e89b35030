"""``training.compile``: off by default; on, every network is compiled in place (checkpoint keys
unchanged). Compiling itself (tens of seconds on CPU) is measured in benchmarks/, not here."""

from __future__ import annotations

import torch

from advmim.methods import get_method


def test_compile_setting_compiles_every_network_in_place(tiny_settings):
    plain = get_method("advmim")(tiny_settings("advmim"), torch.device("cpu"))
    assert tiny_settings("advmim")["compile"] is False
    assert all(net._compiled_call_impl is None for net in plain.nets.values())
    compiled = get_method("advmim")(tiny_settings("advmim", compile=True), torch.device("cpu"))
    assert all(net._compiled_call_impl is not None for net in compiled.nets.values())
    for key, net in compiled.nets.items():
        assert list(net.state_dict()) == list(plain.nets[key].state_dict())
