"""evaluation.checkpoint: best_val -- validation during training, the best checkpoint beside the
last, evaluation with the rule (SSL4MIS: best mean val Dice, a strictly higher one replaces it)."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from advmim.evaluate import BEST_VAL_FILE, evaluate_run
from advmim.train.checkpoint import load_checkpoint
from advmim.train.loop import LAST_CHECKPOINT, train
from advmim.train.validation import VAL_LOG, Validator


def _curve(run):
    return [(int(r["iteration"]), float(r["dice_C"])) for r in csv.DictReader((run / VAL_LOG).open())]


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


def test_best_val_keeps_the_best_iteration_and_evaluation_uses_it(phantom_data, tiny_settings, tmp_path):
    settings = tiny_settings("supervised_unet", labeled=2, iterations=100, checkpoint_every=100, val_every=10)
    run = tmp_path / "run"
    train(settings, phantom_data, run, progress=False)
    curve = _curve(run)
    assert [it for it, _ in curve] == list(range(10, 101, 10))
    best_it, best_dice = max(curve, key=lambda c: (c[1], -c[0]))  # the first of the highest
    assert best_dice > 0, curve  # a curve that can select something
    best = load_checkpoint(run / BEST_VAL_FILE)
    assert best["best_iterations"] == {"C": best_it} and best["val_dice"]["C"] == pytest.approx(best_dice)

    # the same run stopped at the best iteration holds the same weights
    again = tmp_path / "again"
    train({**settings, "checkpoint_every": 1}, phantom_data, again, progress=False, stop_after=best_it)
    at_best = load_checkpoint(again / LAST_CHECKPOINT)
    assert at_best["iteration"] == best_it
    assert _same(best["nets"]["C"], at_best["method"]["nets"]["C"])

    # evaluation with the rule scores the best weights: its val Dice is the curve's maximum
    on_val = evaluate_run(run / "model.pt", phantom_data, split="val", checkpoint="best_val")
    assert on_val["checkpoint"] == "best_val"
    assert on_val["networks"]["C"]["mean"]["dice"]["mean"] == pytest.approx(best_dice)
    last = evaluate_run(run / "model.pt", phantom_data, split="val", checkpoint="last")
    assert last["checkpoint"] == "last"
    assert last["networks"]["C"]["mean"]["dice"]["mean"] == pytest.approx(curve[-1][1])
    assert json.loads((run / "config.json").read_text())["val_every"] == 10
    _curve_is_drawn(run, curve, tmp_path / "fig")
    _strictly_higher_replaces(settings, best["nets"]["C"], phantom_data, tmp_path / "v")


def _curve_is_drawn(run, curve, out):
    from advmim.report import figures

    x, y = figures.read_curves(run)["val dice_C"]
    assert list(x) == [it for it, _ in curve] and list(y) == pytest.approx([d for _, d in curve])
    assert figures.training_curves(figures.read_runs([run]), out)


def _strictly_higher_replaces(settings, trained, data, folder):
    """Validator on a known sequence: trained weights, then zeroed ones (Dice 0), then the trained
    weights again (a tie): the best stays at the first."""
    from advmim.methods import get_method

    method = get_method("supervised_unet")(settings, torch.device("cpu"))
    (net,) = method.eval_networks().values()
    validator = Validator(settings, data, folder, torch.device("cpu"))
    net.load_state_dict(trained)
    first = validator.validate(method, 1)["C"]
    assert first > 0
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    assert validator.validate(method, 2)["C"] == 0
    net.load_state_dict(trained)
    assert validator.validate(method, 3)["C"] == first
    assert validator.best["C"]["iteration"] == 1 and _same(validator.best["C"]["weights"], trained)
    assert net.training  # back in training mode
    validator.close()


def test_validation_does_not_change_the_trained_weights(phantom_data, tiny_settings, tmp_path):
    plain = tiny_settings("mean_teacher", iterations=4)
    a = train(plain, phantom_data, tmp_path / "a", progress=False)
    b = train({**plain, "val_every": 2}, phantom_data, tmp_path / "b", progress=False)
    assert _same(load_checkpoint(a)["nets"]["C"], load_checkpoint(b)["nets"]["C"])
    assert [it for it, _ in _curve(tmp_path / "b")] == [2, 4]
    assert not (tmp_path / "a" / BEST_VAL_FILE).exists() and (tmp_path / "b" / BEST_VAL_FILE).exists()


def test_best_val_without_its_file_names_it(phantom_data, tiny_settings, tmp_path):
    from advmim.errors import InputError

    model = train(tiny_settings("supervised_unet", iterations=1), phantom_data, tmp_path / "r", progress=False)
    with pytest.raises(InputError, match=BEST_VAL_FILE):
        evaluate_run(model, phantom_data, split="val", checkpoint="best_val")
