"""Watching training live: train_log.csv appended as it goes (resume-safe), TensorBoard event
files with every loss term, ETA in the progress lines."""

from __future__ import annotations

import csv

import pytest

from advmim.train.loop import train
from advmim.train.monitor import TENSORBOARD_DIR


def _log_rows(run):
    return list(csv.DictReader((run / "train_log.csv").read_text().splitlines()))


def _scalars(run, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / TENSORBOARD_DIR))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def test_log_is_written_as_training_goes_and_resumes_without_duplicates(phantom_data, tiny_settings, tmp_path):
    settings = tiny_settings("mean_teacher", iterations=6, checkpoint_every=4)
    run = tmp_path / "r"
    train(settings, phantom_data, run, progress=False, stop_after=5)  # checkpoint at 4, stops at 5
    assert [int(r["iteration"]) for r in _log_rows(run)] == [1, 2, 3, 4, 5]
    train(settings, phantom_data, run, progress=False)  # resumes at 4: iteration 5 is trained again
    rows = _log_rows(run)
    assert [int(r["iteration"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    loss = _scalars(run, "train/loss")
    assert [step for step, _ in loss] == [1, 2, 3, 4, 5, 6]
    for (_, value), row in zip(loss, rows, strict=True):
        assert value == pytest.approx(float(row["loss"]), rel=1e-6)
    for term in ("lr", "sup", "cons", "cons_weight"):
        assert term in rows[0] and len(_scalars(run, f"train/{term}")) == 6


def test_progress_lines_carry_an_eta(phantom_data, tiny_settings, tmp_path, capsys):
    train(tiny_settings("supervised_unet", iterations=2), phantom_data, tmp_path / "r", progress=True)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if " it 2/2 " in ln]
    assert lines and "it/s, ETA 0:00:00)" in lines[-1], lines
