"""model.pt stores each reported network's architecture; inference rebuilds from it."""

from __future__ import annotations

import pytest
import torch

from advmim.errors import InputError
from advmim.inference import load_networks
from advmim.train.checkpoint import load_checkpoint, save_checkpoint
from advmim.train.loop import train


def test_networks_are_rebuilt_from_the_stored_architecture(phantom_data, tiny_settings, tmp_path):
    model = train(tiny_settings("ctct", iterations=1), phantom_data, tmp_path / "run",
                  device=torch.device("cpu"), progress=False)
    state = load_checkpoint(model)
    assert state["architectures"]["S"]["name"] == "swin_unet"
    assert state["architectures"]["C"] == {"name": "unet", "params": {"channels": [4, 8, 16, 32, 64]}}
    # the key letter does not decide the network: a run reporting its U-Net as "X" loads
    state["nets"] = {"X": state["nets"]["C"]}
    state["architectures"] = {"X": state["architectures"]["C"]}
    renamed = tmp_path / "renamed.pt"
    save_checkpoint(renamed, state)
    _, nets = load_networks(renamed, torch.device("cpu"))
    assert type(nets["X"]).__name__ == "UNet"
    # a checkpoint from before architectures were stored still loads by key letter
    legacy = {k: v for k, v in load_checkpoint(model).items() if k != "architectures"}
    save_checkpoint(tmp_path / "legacy.pt", legacy)
    _, nets = load_networks(tmp_path / "legacy.pt", torch.device("cpu"))
    assert set(nets) == {"S", "C"}
    legacy["nets"] = {"X": legacy["nets"]["C"]}
    save_checkpoint(tmp_path / "legacy_x.pt", legacy)
    with pytest.raises(InputError, match="legacy_x.pt: network 'X' has no stored architecture"):
        load_networks(tmp_path / "legacy_x.pt", torch.device("cpu"))
