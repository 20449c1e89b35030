"""The optimised AdvMIM step computes the same loss terms as the authors'-structure reference.

Batch norm in train mode normalises over the batch, so a concatenated [xl; xu; masked] batch and
separate passes differ by design; with every network in eval mode (running BN statistics, no
dropout, no drop-path) each image's output is independent of its batch and the terms must agree.
"""

import copy

import pytest
import torch

from benchmarks.common import bench_settings, build_method, random_batch
from benchmarks.reference_advmim import reference_disc_loss, reference_terms

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
