"""The optimised AdvMIM step computes the same loss terms as the authors'-structure reference.

Batch norm in train mode normalises over the batch, so a concatenated [xl; xu; masked] batch and
separate passes differ by design; with every network in eval mode (running BN statistics, no
dropout, no drop-path) each image's output is independent of its batch and the terms must agree.
"""

import copy

import pytest
import torch

from benchmarks.common import bench_settings, build_method, random_batch
from benchmarks.reference_advmim import reference_disc_loss, reference_step, reference_terms

torch.set_num_threads(2)


def _method(size=64, batch=2):
    settings = bench_settings("advmim", size=size, batch=batch)
    settings["method_params"]["mask_block"] = 16
    method = build_method(settings)
    for net in method.nets.values():
        net.eval()
    return method


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
    for key, net in method.nets.items():
        ref = dict(ref_method.nets[key].named_parameters())
        for name, value in net.named_parameters():
            assert torch.allclose(value, ref[name], rtol=1e-4, atol=1e-6), f"{key}.{name}"
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
