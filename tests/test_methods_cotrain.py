"""Semi-supervised baselines CCT, CPS, URPC, Deep Co-Training: training, losses, heads."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import torch

from advmim.config import load_config, run_settings
from advmim.errors import ConfigError
from advmim.evaluate import evaluate_run
from advmim.methods import Batch, get_method
from advmim.methods.dct import rotation_consistency
from advmim.methods.urpc import pyramid_consistency
from advmim.models import build_model
from advmim.models.heads import AuxDecoders, DeepSupervisionHeads, FeatureDrop, FeatureNoise
from advmim.train.loop import make_batch, train, training_sets
from advmim.train.sampling import EpochSampler

torch.set_num_threads(1)

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
METHODS = ["cct", "cps", "urpc", "dct"]
SUP_KEY = {"cct": "sup", "cps": "sup_C", "urpc": "sup", "dct": "sup"}
WEIGHT_KEY = {"cct": "consistency_weight", "cps": "consistency_weight", "urpc": "consistency_weight", "dct": "cons_weight"}
CPU = torch.device("cpu")


def tiny_settings(method: str, iterations: int = 3, **params) -> dict:
    config = copy.deepcopy(load_config(CONFIG))
    config["training"].update(
        img_size=32, iterations=iterations, batch_labeled=2, batch_unlabeled=2,
        checkpoint_every=1000, threads=1, device="cpu",
    )
    config["models"]["unet"] = {"channels": [4, 8, 16, 32, 64]}
    config.setdefault("method_params", {})[method] = params
    return run_settings(config, method, labeled=1, seed=0)


@pytest.mark.parametrize("method", METHODS)
def test_train_and_evaluate(method, phantom_data, tmp_path):
    settings = tiny_settings(method)
    model_path = train(settings, phantom_data, tmp_path / "run", progress=False)
    assert model_path.is_file()
    state = torch.load(model_path, map_location="cpu", weights_only=False)
    assert set(state["nets"]) == {"C"}  # only the plain U-Net is reported
    log = (tmp_path / "run" / "train_log.csv").read_text().splitlines()
    assert len(log) == 1 + settings["iterations"]
    result = evaluate_run(model_path, phantom_data)
    dice = result["networks"]["C"]["mean"]["dice"]["mean"]
    assert 0.0 <= dice <= 1.0


def _fixed_batch(settings, data_dir) -> Batch:
    labeled, unlabeled = training_sets(settings, data_dir)
    xl, yl = make_batch(labeled, EpochSampler(len(labeled), 4, 0, "labeled"), 0, CPU)
    xu, _ = make_batch(unlabeled, EpochSampler(len(unlabeled), 4, 0, "unlabeled"), 0, CPU)
    return Batch(xl, yl, xu)


@pytest.mark.parametrize("method", METHODS)
def test_supervised_loss_decreases_on_fixed_batch(method, phantom_data):
    settings = tiny_settings(method, iterations=15)
    torch.manual_seed(0)
    m = get_method(method)(settings, CPU)
    m.train_mode()
    batch = _fixed_batch(settings, phantom_data)
    logs = [m.train_step(batch, it) for it in range(15)]
    assert all(math.isfinite(v) for log in logs for v in log.values())
    sup = [log[SUP_KEY[method]] for log in logs]
    assert sum(sup[-3:]) / 3 < 0.8 * sup[0]
    weights = [log[WEIGHT_KEY[method]] for log in logs]
    assert weights == sorted(weights) and weights[0] < weights[-1] <= 0.1


def test_cct_perturbations_change_features_keep_shapes():
    torch.manual_seed(0)
    feats = [torch.rand(2, c, s, s) + 0.1 for c, s in [(4, 32), (8, 16), (16, 8), (32, 4), (64, 2)]]
    aux = AuxDecoders([4, 8, 16, 32, 64], 4).train()
    for i in range(3):
        perturbed = aux.perturb(i, feats)
        assert [p.shape for p in perturbed] == [f.shape for f in feats]
        assert any(not torch.equal(p, f) for p, f in zip(perturbed, feats, strict=True))
    assert [o.shape for o in aux(feats)] == [(2, 4, 32, 32)] * 3
    aux.eval()
    for i in range(3):
        assert all(torch.equal(p, f) for p, f in zip(aux.perturb(i, feats), feats, strict=True))


def test_feature_drop_zeroes_peak_and_noise_is_bounded():
    x = torch.rand(2, 3, 8, 8)
    x[:, :, 2, 3] = 5.0  # the most activated pixel
    dropped = FeatureDrop().train()(x)
    assert torch.all(dropped[:, :, 2, 3] == 0) and (dropped != 0).any()
    noisy = FeatureNoise(0.3).train()(x)
    assert torch.all((noisy - x).abs() <= 0.3 * x.abs() + 1e-6) and not torch.equal(noisy, x)


def test_urpc_outputs_at_input_size(phantom_data):
    settings = tiny_settings("urpc")
    m = get_method("urpc")(settings, CPU)
    outs = m.outputs(torch.rand(3, 1, 32, 32))
    assert len(outs) == 4
    assert all(o.shape == (3, 4, 32, 32) for o in outs)
    with pytest.raises(ConfigError, match="perturbations"):
        get_method("urpc")(tiny_settings("urpc", perturbations=["noise"]), CPU)
    heads = DeepSupervisionHeads([8, 4], 2)
    sizes = [o.shape for o in heads([torch.rand(1, 8, 4, 4), torch.rand(1, 4, 8, 8)], (16, 16))]
    assert sizes == [(1, 2, 16, 16)] * 2


def test_pyramid_and_rotation_consistency():
    a = torch.randn(2, 4, 8, 8)
    b = torch.randn(2, 4, 8, 8)
    assert pyramid_consistency([a, a, a]).item() == pytest.approx(0.0, abs=1e-6)
    assert pyramid_consistency([a, b, a]).item() > 0
    p = a.softmax(1)
    for k in range(4):  # the rotated view of a rotation-equivariant map costs nothing
        assert rotation_consistency(torch.rot90(p, k, dims=(2, 3)), p, k).item() == pytest.approx(0.0)
    assert rotation_consistency(b.softmax(1), p, 1).item() == pytest.approx(
        ((b.softmax(1) - torch.rot90(p, 1, dims=(2, 3))) ** 2).mean().item()
    )


@pytest.mark.parametrize("method", ["cps"])
def test_two_networks_start_different_and_c_is_a_plain_unet(method):
    settings = tiny_settings(method)
    m = get_method(method)(settings, CPU)
    w1 = m.nets["C"].encoder.stem[0].weight
    w2 = m.nets["C2"].encoder.stem[0].weight
    assert not torch.allclose(w1, w2)
    plain = build_model("unet", 4, 32, channels=[4, 8, 16, 32, 64])
    plain.load_state_dict(m.nets["C"].state_dict())
