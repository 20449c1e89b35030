"""The AdvMIM step computes the same loss terms and weights as the authors'-structure reference.

In eval mode (running BN statistics, no dropout / drop-path) and in train mode: there batch norm
normalises over each call's batch, so the step must call the networks as the authors do (S and C
on xl, then on xu; original and masked branches as separate passes), and with the same torch RNG
state (dropout, drop-path) the terms and the updated weights must agree.
"""

import copy

import pytest
import torch

from benchmarks.common import bench_settings, build_method, random_batch
from benchmarks.reference_advmim import reference_disc_loss, reference_step, reference_terms

torch.set_num_threads(2)


def _method(size=64, batch=2, train=False):
    settings = bench_settings("advmim", size=size, batch=batch)
    settings["method_params"]["mask_block"] = 32  # 8 px at 64 px: an 8 x 8 block grid
    method = build_method(settings)
    for net in method.nets.values():
        net.train(train)
    return method


def _assert_same_weights(method, ref_method):
    for key, net in method.nets.items():
        ref = dict(ref_method.nets[key].named_parameters())
        for name, value in net.named_parameters():
            assert torch.allclose(value, ref[name], rtol=1e-4, atol=1e-6), f"{key}.{name}"
        ref_buffers = dict(ref_method.nets[key].named_buffers())
        for name, value in net.named_buffers():  # BatchNorm running statistics
            assert torch.allclose(value.float(), ref_buffers[name].float(), rtol=1e-4, atol=1e-6), name


@pytest.mark.parametrize("iteration", [0, 5])
def test_train_mode_step_matches_reference(iteration):
    """Train mode (batch statistics, dropout, drop-path): same terms, same weights after a step."""
    method = _method(batch=3, train=True)
    batch = random_batch(method.settings, seed=iteration)
    ref_method = copy.deepcopy(method)
    torch.manual_seed(100 + iteration)
    logged = method.train_step(batch, iteration)
    torch.manual_seed(100 + iteration)
    expected = reference_step(ref_method, batch, iteration)
    assert set(logged) == set(expected)
    for key, value in expected.items():
        assert logged[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    _assert_same_weights(method, ref_method)


def test_unet_branches_keep_their_own_batch_statistics():
    """The masked branch must not share BatchNorm statistics with the original one: its
    original logits equal a plain forward of the same batch (train mode, no dropout)."""
    from advmim.models import build_model

    net = build_model("unet", 4, 32, channels=[4, 8, 16, 32, 64], dropout=[0.0] * 5).train()
    x = torch.randn(3, 1, 32, 32)
    logits, _ = net.forward_masked(x, 0.7, 8, torch.Generator().manual_seed(0))
    torch.testing.assert_close(logits, net(x))


@pytest.mark.parametrize("iteration", [0, 7])
def test_loss_terms_match_reference_in_eval_mode(iteration):
    method = _method()
    batch = random_batch(method.settings, seed=iteration)
    ref_method = copy.deepcopy(method)  # the step below updates the networks
    with torch.no_grad():
        terms, outputs = reference_terms(ref_method, batch, iteration)
        disc = reference_disc_loss(ref_method, outputs)
    logged = method.train_step(batch, iteration)
    expected = {k: v.item() for k, v in terms.items()}
    expected["loss"] = sum(expected.values())
    expected["disc"] = disc.item()
    assert set(logged) == set(expected)
    for key, value in expected.items():
        assert logged[key] == pytest.approx(value, rel=1e-4, abs=1e-6), key


def test_reference_differs_from_a_different_mask():
    """Guard: the comparison is sensitive to the masks (another iteration -> other terms)."""
    method = _method()
    batch = random_batch(method.settings)
    with torch.no_grad():
        a, _ = reference_terms(method, batch, 0)
        b, _ = reference_terms(method, batch, 1)
    assert a["mask_l_S"].item() != pytest.approx(b["mask_l_S"].item(), rel=1e-6)


def test_one_step_updates_weights_as_the_reference_does():
    """Both updates of a step (generator: S, C; discriminators) land on the reference's weights:
    the shared discriminator pass on the masked maps and the generator update without
    discriminator gradients change nothing but the work done."""
    method = _method()
    batch = random_batch(method.settings, seed=3)
    ref_method = copy.deepcopy(method)
    d_before = method.nets["D_S"].net[0].weight.detach().clone()
    method.train_step(batch, 3)
    reference_step(ref_method, batch, 3)
    _assert_same_weights(method, ref_method)
    moved = method.nets["D_S"].net[0].weight - d_before
    assert moved.abs().max() > 0  # the discriminator update did happen


def test_generator_update_leaves_discriminator_gradients_alone():
    method = _method()
    batch = random_batch(method.settings)
    x = torch.cat([batch.xl, batch.xu])
    loss = method.nets["D_S"](method.nets["S"](x).softmax(1)).square().mean()
    method.update(loss, ["S"])
    assert all(p.grad is None for p in method.nets["D_S"].parameters())
    assert any(p.grad is not None for p in method.nets["S"].parameters())
