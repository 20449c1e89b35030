"""Each AdvMIM loss term against a value computed by hand (plain Python) on tiny tensors.

The networks are replaced by fixed-logit modules so that every probability is known; the code
under test is the composition of AdvMIM's eight terms and the discriminator step.
"""

import math

import pytest
import torch
from torch import nn

from advmim.methods import Batch, get_method

EPS = 1e-5


def probs_to_logits(p1: list[float]) -> torch.Tensor:
    """(1, 2, 1, len) two-class logits whose class-1 softmax probabilities are ``p1``."""
    return torch.tensor([[[[0.0] * len(p1)], [[math.log(p / (1 - p)) for p in p1]]]])


class FixedNet(nn.Module):
    """Returns fixed logits for the original and the masked input: row 0 for the labeled batch
    (an all-zero image), row 1 for the unlabeled one (all ones); each batch is its own call."""

    patch_size = 1

    def __init__(self, original: list[list[float]], masked: list[list[float]]):
        super().__init__()
        self.original = nn.Parameter(torch.cat([probs_to_logits(p) for p in original]))
        self.masked = nn.Parameter(torch.cat([probs_to_logits(p) for p in masked]))

    @staticmethod
    def _row(x):
        return slice(0, 1) if x.sum() == 0 else slice(1, 2)

    def forward(self, x):
        return self.original[self._row(x)] * 1.0

    def forward_masked(self, x, mask_ratio, mask_block, generator=None):
        row = self._row(x)
        return self.original[row] * 1.0, self.masked[row] * 1.0


class MeanProbDiscriminator(nn.Module):
    """Score = w * mean class-1 probability (w = 1): a known function of its input."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(()))

    def forward(self, probs):
        return (self.w * probs[:, 1].mean()).reshape(1, 1, 1, 1)


# Class-1 probabilities of the two pixels of each image (labeled row first).
S = {"orig": [[0.75, 0.25], [0.6, 0.2]], "mask": [[0.5, 0.4], [0.9, 0.3]]}
C = {"orig": [[0.8, 0.4], [0.3, 0.7]], "mask": [[0.6, 0.1], [0.2, 0.55]]}
YL = [1, 0]


def ce(p1, y):
    return -sum(math.log(p if t == 1 else 1 - p) for p, t in zip(p1, y, strict=True)) / len(y)


def dice(p1, y):
    total = 0.0
    for cls in (0, 1):
        p = [q if cls == 1 else 1 - q for q in p1]
        g = [1.0 if t == cls else 0.0 for t in y]
        inter = sum(a * b for a, b in zip(p, g, strict=True))
        total += 1 - (2 * inter + EPS) / (sum(a * a for a in p) + sum(g) + EPS)
    return total / 2


def pseudo(p1):
    return [1 if p > 0.5 else 0 for p in p1], [max(p, 1 - p) for p in p1]


def wce(p1, y, w):
    pix = [-math.log(p if t == 1 else 1 - p) for p, t in zip(p1, y, strict=True)]
    return sum(a * b for a, b in zip(w, pix, strict=True)) / sum(w)


def mean(v):
    return sum(v) / len(v)


@pytest.fixture
def method(tiny_settings):
    settings = tiny_settings("advmim")
    settings["num_classes"] = 2
    settings["grad_clip"] = None
    cls = get_method("advmim")
    original = cls.build_networks
    cls.build_networks = lambda self: {
        "S": FixedNet(S["orig"], S["mask"]), "C": FixedNet(C["orig"], C["mask"]),
        "D_S": MeanProbDiscriminator(), "D_C": MeanProbDiscriminator(),
    }
    try:
        yield cls(settings, torch.device("cpu"))
    finally:
        cls.build_networks = original


def test_every_advmim_term_matches_the_hand_computed_value(method):
    batch = Batch(torch.zeros(1, 1, 1, 2), torch.tensor([[YL]]), torch.ones(1, 1, 1, 2))
    logged = method.train_step(batch, iteration=0)

    ys, ws = pseudo(S["orig"][1])
    yc, wc = pseudo(C["orig"][1])
    expected = {
        "sup_S": ce(S["orig"][0], YL) + dice(S["orig"][0], YL),
        "sup_C": ce(C["orig"][0], YL) + dice(C["orig"][0], YL),
        "cross": 0.1 * (dice(S["orig"][1], yc) + dice(C["orig"][1], ys)),
        "mask_l_S": ce(S["mask"][0], YL),
        "mask_l_C": ce(C["mask"][0], YL) + dice(C["mask"][0], YL),
        "mask_u_S": wce(S["mask"][1], yc, wc),
        "mask_u_C": wce(C["mask"][1], ys, ws),
        "adv_S": 0.001 * (mean(S["mask"][1]) - 1) ** 2,
        "adv_C": 0.001 * (mean(C["mask"][1]) - 1) ** 2,
        "disc": 0.1 * ((mean(S["orig"][0]) - 1) ** 2 + mean(S["mask"][1]) ** 2
                       + (mean(C["orig"][0]) - 1) ** 2 + mean(C["mask"][1]) ** 2),
    }
    for term, value in expected.items():
        assert logged[term] == pytest.approx(value, rel=1e-5), term
    total = sum(v for k, v in expected.items() if k != "disc")
    assert logged["loss"] == pytest.approx(total, rel=1e-5)


def test_switches_remove_exactly_their_terms(method):
    method.params.update(adversarial=False, confidence_weights=False)
    batch = Batch(torch.zeros(1, 1, 1, 2), torch.tensor([[YL]]), torch.ones(1, 1, 1, 2))
    logged = method.train_step(batch, iteration=0)
    assert "adv_S" not in logged and "disc" not in logged
    yc, _ = pseudo(C["orig"][1])
    assert logged["mask_u_S"] == pytest.approx(ce(S["mask"][1], yc), rel=1e-5)  # unit weights
