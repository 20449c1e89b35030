"""Masked image modelling of the Swin-UNet encoder (pretrained: mim): label-free, deterministic,
and loaded into a Swin-UNet the way the ImageNet Swin-T is."""

from __future__ import annotations

import shutil
import subprocess
import sys

import h5py
import pytest
import torch

from advmim.config import fill_defaults, pretrain_key, pretrain_settings
from advmim.models import build_model
from advmim.train.pretrain import pretrain_mim

SWIN = {"embed_dim": 12, "depths": [1, 1, 1, 1], "num_heads": [1, 1, 2, 2], "window_size": 4,
        "drop_path_rate": 0.0}


def settings(iterations: int = 12) -> dict:
    pretrain = fill_defaults({})["pretrain"] | {"iterations": iterations, "batch": 4, "lr": 0.003}
    return {"dataset": "phantom", "img_size": 32, "swin_unet": dict(SWIN), "threads": 1,
            "device": "cpu", "pretrain": pretrain}


@pytest.fixture(scope="module")
def images_only(phantom_data, tmp_path_factory):
    """phantom_data with every label removed from the training slices."""
    out = tmp_path_factory.mktemp("unlabeled") / "data"
    shutil.copytree(phantom_data, out)
    for path in (out / "data" / "slices").glob("*.h5"):
        with h5py.File(path, "a") as f:
            del f["label"]
    return out


def test_pretraining_reads_no_label_learns_and_repeats(images_only, tmp_path):
    a = pretrain_mim(settings(), images_only, tmp_path / "a.pt", progress=False)
    b = pretrain_mim(settings(), images_only, tmp_path / "b.pt", progress=False)
    sa, sb = torch.load(a, weights_only=False), torch.load(b, weights_only=False)
    assert sa["model"].keys() == sb["model"].keys()
    assert all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"])  # same seed
    assert sa["loss_last_10pct"] < sa["loss_first"]  # the reconstruction improves
    assert set(k.split(".")[0] for k in sa["model"]) == {"patch_embed", "layers", "norm"}
    assert (tmp_path / "a.json").is_file()


def test_encoder_loads_into_encoder_and_mirrored_decoder(images_only, tmp_path):
    path = pretrain_mim(settings(4), images_only, tmp_path / "mim.pt", progress=False)
    encoder = torch.load(path, weights_only=False)["model"]
    net = build_model("swin_unet", 4, 32, **SWIN, pretrained=str(path))
    report = net.pretrained_report
    assert report.skipped == []
    assert {k for k in encoder if not k.endswith(("relative_position_index", "attn_mask"))} <= set(report.loaded)
    own = net.state_dict()
    assert all(torch.equal(own[k], encoder[k]) for k in report.loaded if k in encoder)
    mirrored = [k for k in report.loaded if k.startswith("layers_up.")]
    assert mirrored  # decoder stage k from encoder stage n - 2 - k, as for the ImageNet Swin-T
    for key in mirrored:
        _, stage, rest = key.split(".", 2)
        assert torch.equal(own[key], encoder[f"layers.{len(SWIN['depths']) - 2 - int(stage)}.{rest}"])


def test_key_names_the_settings_that_change_the_result():
    s = pretrain_settings({}, {"dataset": "phantom", "img_size": 64, "threads": 1, "device": "cpu",
                               "models": {"swin_unet": {"embed_dim": 48, "pretrained": "mim"}}})
    assert "pretrained" not in s["swin_unet"] and s["pretrain"]["mask_ratio"] == 0.6
    other = dict(s, threads=2, device="cuda")
    assert pretrain_key(other) == pretrain_key(s)
    assert pretrain_key(dict(s, img_size=32)) != pretrain_key(s)


def test_cli_refuses_incomplete_settings(tmp_path):
    out = subprocess.run([sys.executable, "-m", "advmim", "pretrain-mim", "--data", str(tmp_path),
                          "--settings", '{"img_size": 32}', "--out", str(tmp_path / "m.pt")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "missing key(s) dataset" in out.stderr


def test_table_footnote_names_the_mim_initialisation():
    from advmim.report.table import _pretrained_text

    assert "masked image modelling" in _pretrained_text("mim") and "ImageNet" in _pretrained_text("imagenet")
