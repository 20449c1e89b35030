"""Each baseline behaves as its reference script (SSL4MIS ``code/train_*_2D.py``); the switches
that restore the earlier readings keep working. One test per reviewed defect (docs/methods.md)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from advmim.blocks.losses import ce_loss
from advmim.methods import Batch, get_method
from advmim.models import build_model
from advmim.models.heads import DeepSupervisionHeads, FeatureDrop

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _batch(n=2, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    xl, xu = torch.rand(n, 1, size, size, generator=g), torch.rand(n, 1, size, size, generator=g)
    yl = torch.randint(0, 4, (n, size, size), generator=g)
    return Batch(xl, yl, xu)


def _eval(method):
    """Deterministic forward passes (no dropout, running BN) for hand-computed expectations."""
    for net in method.nets.values():
        net.eval()
    return method


def test_cps_networks_use_pytorch_default_init(tiny_settings):
    """SSL4MIS commit 9a74d15 dropped the Kaiming / Xavier re-initialisation: both nets are
    plain U-Nets drawn one after the other from the seeded RNG."""
    settings = tiny_settings("cps")
    torch.manual_seed(7)
    method = get_method("cps")(settings, CPU)
    torch.manual_seed(7)
    first, second = (build_model("unet", 4, 32, **settings["models"]["unet"]) for _ in range(2))
    for net, ref in ((method.nets["C"], first), (method.nets["C2"], second)):
        for key, value in ref.state_dict().items():
            assert torch.equal(net.state_dict()[key], value), key
    settings["method_params"]["init"] = "kaiming_xavier"  # the earlier behaviour, as a switch
    torch.manual_seed(7)
    old = get_method("cps")(settings, CPU)
    assert not torch.equal(old.nets["C"].encoder.stem[0].weight, first.encoder.stem[0].weight)


def test_cps_pseudo_supervision_on_unlabeled_only(tiny_settings):
    method = _eval(get_method("cps")(tiny_settings("cps"), CPU))
    batch = _batch()
    with torch.no_grad():
        out1 = method.nets["C"](batch.xu)
        out2 = method.nets["C2"](batch.xu)
    expected = ce_loss(out1, out2.argmax(1)).item()
    logged = method.train_step(batch, 0)
    assert logged["cps_C"] == pytest.approx(expected, rel=1e-5)


def test_dct_is_one_unet_with_a_rot90_two_view_consistency(tiny_settings):
    method = _eval(get_method("dct")(tiny_settings("dct"), CPU))
    assert set(method.nets) == {"C"}
    batch = _batch()
    torch.manual_seed(3)
    k = int(torch.randint(0, 4, (1,)).item())
    with torch.no_grad():
        p = method.nets["C"](batch.xu).softmax(1)
        r = method.nets["C"](torch.rot90(batch.xu, k, dims=(2, 3))).softmax(1)
    expected = ((r - torch.rot90(p, k, dims=(2, 3))) ** 2).mean().item()
    torch.manual_seed(3)
    logged = method.train_step(batch, 0)
    assert logged["rotation"] == k and logged["cons"] == pytest.approx(expected, rel=1e-5)


def test_cct_dropout_is_elementwise_p03_and_urpc_p05(tiny_settings):
    cct = get_method("cct")(tiny_settings("cct"), CPU)
    drops = [m for m in cct.nets["aux"].perturbations if isinstance(m, nn.Dropout)]
    assert len(drops) == 1 and drops[0].p == 0.3
    urpc = get_method("urpc")(tiny_settings("urpc"), CPU)
    drops = [m for m in urpc.nets["aux"].perturbations if isinstance(m, nn.Dropout)]
    assert len(drops) == 1 and drops[0].p == 0.5
    assert not any(isinstance(m, nn.Dropout2d) for m in cct.nets["aux"].modules())


def test_feature_drop_threshold_factor_is_per_batch():
    """SSL4MIS draws one ``np.random.uniform(0.7, 0.9)`` per call: identical samples are
    dropped identically."""
    torch.manual_seed(0)
    x = torch.rand(1, 3, 16, 16).repeat(8, 1, 1, 1)
    dropped = FeatureDrop().train()(x)
    assert all(torch.equal(dropped[0], dropped[i]) for i in range(1, 8))


def test_urpc_side_outputs_are_upsampled_nearest():
    heads = DeepSupervisionHeads([4], 2, ["none"])
    stage = torch.randn(1, 4, 4, 4)
    out = heads([stage], (16, 16))[0]
    torch.testing.assert_close(out, F.interpolate(heads.heads[0](stage), size=(16, 16)))
    assert torch.equal(out[..., :4, :4], out[..., :1, :1].expand(-1, -1, 4, 4))


def test_cct_step_uses_the_undetached_consistency(tiny_settings):
    """SSL4MIS does not detach the main output in the CCT consistency, so the consistency moves
    the main head too: its update differs from the one with ``detach_main`` (the paper's)."""
    weights = {}
    for detach in (False, True):
        settings = tiny_settings("cct")
        settings["method_params"].update(detach_main=detach, consistency=100.0, rampup_fraction=0.0)
        torch.manual_seed(0)
        method = _eval(get_method("cct")(settings, CPU))
        method.train_step(_batch(), 0)
        weights[detach] = method.nets["C"].decoder.out_conv.weight.detach().clone()
    assert not torch.allclose(weights[False], weights[True])


def test_entropy_minimisation_covers_the_whole_batch(tiny_settings):
    method = _eval(get_method("entropy_min")(tiny_settings("entropy_min"), CPU))
    batch = _batch()
    batch.xl = batch.xl * 50  # labeled images far from the unlabeled ones: other entropies
    with torch.no_grad():
        p = method.nets["C"](torch.cat([batch.xl, batch.xu])).softmax(1)
    entropy = -(p * torch.log(p + 1e-6)).sum(1) / math.log(4)
    whole, unlabeled = entropy.mean().item(), entropy[2:].mean().item()
    assert abs(whole - unlabeled) > 1e-3  # the check below can tell the two apart
    assert method.train_step(batch, 0)["cons"] == pytest.approx(whole, rel=1e-5)


def test_uamt_threshold_ln2_and_half_sum_normalisation(tiny_settings):
    method = get_method("uamt")(tiny_settings("uamt"), CPU)
    method.train_mode()
    logged = method.train_step(_batch(), method.settings["iterations"])
    assert logged["threshold"] == pytest.approx(math.log(2))
    settings = tiny_settings("uamt")
    settings["method_params"]["threshold_ln_classes"] = True
    other = get_method("uamt")(settings, CPU)
    other.train_mode()
    assert other.train_step(_batch(), settings["iterations"])["threshold"] == pytest.approx(math.log(4))


def test_uamt_teacher_calls_as_ssl4mis(tiny_settings):
    """One target pass on b images, then mc_passes / 2 passes on the batch repeated twice."""
    method = get_method("uamt")(tiny_settings("uamt"), CPU)
    seen = []
    hook = method.nets["T"].register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    method.teacher_passes(torch.rand(3, 1, 32, 32))
    hook.remove()
    assert seen == [3, 6, 6, 6, 6]


def test_evaluation_on_val_plus_test_scores_both_lists(phantom_data, tiny_settings, tmp_path):
    """CTCT's script header: its paper combined val and test; ``val+test`` scores both lists and
    the table footnote says which split was used."""
    from advmim.data.splits import read_list
    from advmim.evaluate import evaluate_to_file
    from advmim.report.collect import collect
    from advmim.report.table import footnote_text
    from advmim.train.loop import train

    model = train(tiny_settings("supervised_unet", iterations=1), phantom_data, tmp_path / "run",
                  device=CPU, progress=False)
    result = evaluate_to_file(model, phantom_data, tmp_path / "m.json", split="val+test")
    cases = [v["case"] for v in result["networks"]["C"]["per_volume"]]
    assert cases == read_list(phantom_data / "val.list") + read_list(phantom_data / "test.list")
    assert result["split"] == "val+test"
    df = collect([tmp_path / "m.json"])
    config = {"dataset": {"name": "phantom"}, "evaluation": {"split": "test"},
              "training": {"img_size": 32}}
    text = footnote_text(df, config)
    assert "validation and test splits combined" in text and "last-iteration checkpoint" in text


def test_mean_teacher_consistency_is_off_for_the_first_thirtieth(tiny_settings):
    """SSL4MIS train_mean_teacher_2D.py: consistency_loss = 0 while iter_num < 1000 of 30000."""
    settings = tiny_settings("mean_teacher", iterations=300)
    method = get_method("mean_teacher")(settings, CPU)
    method.train_mode()
    assert method.train_step(_batch(), 9)["cons"] == 0.0  # 9 < 300 / 30
    assert method.train_step(_batch(), 10)["cons"] > 0.0
    settings["method_params"]["consistency_off_fraction"] = 0.0
    other = get_method("mean_teacher")(settings, CPU)
    other.train_mode()
    assert other.train_step(_batch(), 0)["cons"] > 0.0


def test_advmim_augmentation_always_rotates():
    """The authors' RandomGenerator: ``random() > 1.5`` never takes the rot90 + flip branch,
    ``random() > 0.0`` (almost) always rotates by an integer angle in [-20, 20)."""
    import numpy as np
    from scipy import ndimage

    from advmim.data.slices import augment_slice

    image = np.random.default_rng(0).random((24, 24)).astype(np.float32)
    label = (image > 0.5).astype(np.uint8)
    for seed in range(8):
        out, out_label = augment_slice(image, label, np.random.default_rng(seed), 24, recipe="rotate")
        angle = float(np.random.default_rng(seed).integers(-20, 20))
        assert np.array_equal(out, ndimage.rotate(image, angle, order=0, reshape=False))
        assert np.array_equal(out_label, ndimage.rotate(label, angle, order=0, reshape=False))
    with pytest.raises(ValueError, match="augmentation"):
        augment_slice(image, label, np.random.default_rng(0), 24, recipe="mixup")


def test_shipped_configs_give_advmim_its_authors_training(tiny_settings):
    from advmim.config import run_settings
    from tests.workflow_utils import shipped_config

    for name in ("config.yaml", "acdc.yaml"):
        config = shipped_config(name)
        advmim = run_settings(config, "advmim", config["labeled"][0], 0)
        assert advmim["augmentation"] == "rotate" and advmim["grad_clip"] == 5.0
        cps = run_settings(config, "cps", config["labeled"][0], 0)
        assert cps["augmentation"] == "ssl4mis" and cps["grad_clip"] is None


def test_ict_teacher_sees_each_half_in_its_own_call(tiny_settings):
    method = get_method("ict")(tiny_settings("ict"), CPU)
    method.train_mode()
    seen = []
    hook = method.nets["T"].register_forward_hook(lambda m, i, o: seen.append(i[0].shape[0]))
    method.train_step(_batch(n=2), 0)
    hook.remove()
    assert seen == [1, 1]
