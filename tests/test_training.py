"""The shared training loop: determinism, resume after interruption, logs, refusal to overwrite."""

import csv
import math

import pytest
import torch

from advmim.errors import AdvmimError
from advmim.train.checkpoint import load_checkpoint
from advmim.train.loop import LAST_CHECKPOINT, train


def _weights(model_path):
    return load_checkpoint(model_path)["nets"]


def _assert_same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        for name, tensor in a[key].items():
            assert torch.equal(tensor, b[key][name]), f"{key}.{name} differs"


@pytest.mark.parametrize("method", ["supervised_unet", "advmim"])
def test_interrupted_run_resumes_bit_identical(method, phantom_data, tiny_settings, tmp_path):
    settings = tiny_settings(method, iterations=6, checkpoint_every=2)
    whole = train(settings, phantom_data, tmp_path / "whole", progress=False)

    part = tmp_path / "part"
    train(settings, phantom_data, part, progress=False, stop_after=3)  # checkpoint at it 2
    assert load_checkpoint(part / LAST_CHECKPOINT)["iteration"] == 2
    assert not (part / "model.pt").exists()
    resumed = train(settings, phantom_data, part, progress=False)
    _assert_same(_weights(whole), _weights(resumed))
    rows = list(csv.DictReader((part / "train_log.csv").read_text().splitlines()))
    assert [int(r["iteration"]) for r in rows] == list(range(1, 7))
    assert not (part / LAST_CHECKPOINT).exists()


def test_other_seed_gives_other_weights(phantom_data, tiny_settings, tmp_path):
    a = train(tiny_settings("supervised_unet", seed=0), phantom_data, tmp_path / "a", progress=False)
    b = train(tiny_settings("supervised_unet", seed=1), phantom_data, tmp_path / "b", progress=False)
    wa, wb = _weights(a)["C"], _weights(b)["C"]
    assert any(not torch.equal(wa[k], wb[k]) for k in wa)


def test_advmim_logs_every_loss_term(phantom_data, tiny_settings, tmp_path):
    train(tiny_settings("advmim", iterations=2), phantom_data, tmp_path / "r", progress=False)
    header = (tmp_path / "r" / "train_log.csv").read_text().splitlines()[0].split(",")
    for term in ["lr", "loss", "sup_S", "sup_C", "mask_l_S", "mask_l_C", "mask_u_S", "mask_u_C",
                 "cross", "adv_S", "adv_C", "disc"]:
        assert term in header


def test_finished_model_is_never_overwritten(phantom_data, tiny_settings, tmp_path):
    settings = tiny_settings("supervised_unet", iterations=1)
    path = train(settings, phantom_data, tmp_path / "r", progress=False)
    before = path.read_bytes()
    with pytest.raises(AdvmimError, match="refusing to overwrite"):
        train(settings, phantom_data, tmp_path / "r", progress=False)
    assert path.read_bytes() == before


def test_checkpoint_from_other_settings_is_refused(phantom_data, tiny_settings, tmp_path):
    settings = tiny_settings("supervised_unet", iterations=6, checkpoint_every=2)
    train(settings, phantom_data, tmp_path / "r", progress=False, stop_after=3)
    settings["lr"] = 0.5
    with pytest.raises(AdvmimError, match="other settings"):
        train(settings, phantom_data, tmp_path / "r", progress=False)


def test_corrupt_checkpoint_names_the_file(phantom_data, tiny_settings, tmp_path):
    ckpt = tmp_path / "r" / LAST_CHECKPOINT
    ckpt.parent.mkdir(parents=True)
    ckpt.write_bytes(b"not a checkpoint")
    with pytest.raises(AdvmimError, match=str(ckpt)):
        train(tiny_settings("supervised_unet"), phantom_data, tmp_path / "r", progress=False)


def test_fp16_setting_keeps_fp32_numerics_on_cpu(phantom_data, tiny_settings, tmp_path):
    off = train(tiny_settings("advmim", iterations=2), phantom_data, tmp_path / "off", progress=False)
    fp16 = train(tiny_settings("advmim", iterations=2, amp="fp16"), phantom_data, tmp_path / "fp16",
                 progress=False)
    _assert_same(_weights(off), _weights(fp16))
    info = (tmp_path / "fp16" / "run_info.json").read_text()
    assert '"amp": "off"' in info and '"peak_memory_mb"' in info


def test_bf16_on_cpu_follows_native_support(phantom_data, tiny_settings, tmp_path):
    """bf16 autocast runs on a CPU with native bf16, and changes the numerics (slightly);
    without native support training stays fp32."""
    from advmim.train.precision import cpu_has_native_bf16

    off = train(tiny_settings("advmim", iterations=2), phantom_data, tmp_path / "off", progress=False)
    bf16 = train(tiny_settings("advmim", iterations=2, amp="bf16"), phantom_data, tmp_path / "bf16",
                 progress=False)
    info = (tmp_path / "bf16" / "run_info.json").read_text()
    a, b = _weights(off), _weights(bf16)
    if not cpu_has_native_bf16():
        _assert_same(a, b)
        assert '"amp": "off"' in info
        return
    assert '"amp": "torch.bfloat16"' in info
    diffs = [(v - b[net][name]).abs().max().item()
             for net in a for name, v in a[net].items() if v.is_floating_point()]
    assert max(diffs) > 0
    assert all(math.isfinite(d) for d in diffs)
