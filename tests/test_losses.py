"""Loss terms against values computed by hand on tiny tensors."""

import math

import pytest
import torch

from advmim.blocks import losses
from advmim.blocks.schedule import poly_lr, sigmoid_rampup


def test_dice_loss_probs_by_hand():
    # 1 image, 2 classes, 1x2 pixels: p(class1) = [0.8, 0.4]; target = [1, 0].
    probs = torch.tensor([[[[0.2, 0.6]], [[0.8, 0.4]]]])
    target = torch.tensor([[[1, 0]]])
    eps = losses.DICE_SMOOTH
    # class 0: g=[0,1], p=[0.2,0.6]: inter 0.6, sum p^2 0.4, sum g^2 1
    d0 = 1 - (2 * 0.6 + eps) / (0.04 + 0.36 + 1 + eps)
    # class 1: g=[1,0], p=[0.8,0.4]: inter 0.8, sum p^2 0.8, sum g^2 1
    d1 = 1 - (2 * 0.8 + eps) / (0.64 + 0.16 + 1 + eps)
    assert losses.dice_loss_probs(probs, target).item() == pytest.approx((d0 + d1) / 2, rel=1e-6)


def test_perfect_prediction_has_zero_dice_loss():
    target = torch.randint(0, 3, (2, 5, 5))
    probs = losses.one_hot(target, 3)
    assert losses.dice_loss_probs(probs, target).item() == pytest.approx(0.0, abs=1e-6)


def test_weighted_ce_by_hand():
    logits = torch.tensor([[[[0.0, 2.0]], [[1.0, 0.0]]]])  # (1, 2 classes, 1, 2)
    target = torch.tensor([[[1, 0]]])
    weight = torch.tensor([[[0.5, 1.5]]])
    # pixel 0: logits (0, 1) target 1 -> -log(e/(1+e)); pixel 1: logits (2, 0) target 0
    ce0 = -math.log(math.e / (1 + math.e))
    ce1 = -math.log(math.exp(2) / (math.exp(2) + 1))
    expected = (0.5 * ce0 + 1.5 * ce1) / 2.0
    assert losses.weighted_ce(logits, target, weight).item() == pytest.approx(expected, rel=1e-6)


def test_weighted_ce_with_unit_weights_is_ce():
    logits = torch.randn(2, 4, 3, 3)
    target = torch.randint(0, 4, (2, 3, 3))
    ones = torch.ones(2, 3, 3)
    assert losses.weighted_ce(logits, target, ones).item() == pytest.approx(
        losses.ce_loss(logits, target).item(), rel=1e-6
    )


def test_lsgan_loss_by_hand():
    scores = torch.tensor([0.5, 1.5])
    assert losses.lsgan_loss(scores, True).item() == pytest.approx((0.25 + 0.25) / 2)
    assert losses.lsgan_loss(scores, False).item() == pytest.approx((0.25 + 2.25) / 2)


def test_pseudo_labels_are_detached_argmax_and_confidence():
    logits = torch.tensor([[[[0.0]], [[math.log(3.0)]]]], requires_grad=True)
    labels, conf = losses.pseudo_labels(logits)
    assert labels.item() == 1
    assert conf.item() == pytest.approx(0.75)
    assert not conf.requires_grad


def test_schedules():
    assert poly_lr(0.05, 0, 100) == pytest.approx(0.05)
    assert poly_lr(0.05, 50, 100) == pytest.approx(0.05 * 0.5**0.9)
    assert sigmoid_rampup(0, 10) == pytest.approx(math.exp(-5))
    assert sigmoid_rampup(10, 10) == 1.0
    assert sigmoid_rampup(20, 10) == 1.0
