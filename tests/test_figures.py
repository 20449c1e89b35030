"""Figures: the qualitative selection rule, PNG + PDF outputs that are not blank."""

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import study

from advmim.io import write_json
from advmim.report import figures
from advmim.report.collect import collect
from advmim.report.stats import collect_volumes


def _volumes(dice, method="advmim", network="S"):
    return pd.DataFrame({"method": method, "variant": None, "network": network, "labeled": 2, "seed": 0,
                         "case": [f"c{i}" for i in range(len(dice))], "dice": dice})


def _not_blank(path: Path) -> bool:
    import matplotlib.image as mpimg

    img = mpimg.imread(path)
    return path.stat().st_size > 1000 and float(img[..., :3].std()) > 0.01


@pytest.mark.parametrize("dice,expected", [
    ([0.9, 0.1, 0.5, 0.7, 0.3], [("median", "c2"), ("worst", "c1")]),
    ([0.9, 0.1, 0.5, 0.7], [("median", "c2"), ("worst", "c1")]),  # even count: lower median
    ([0.4, 0.8], [("median", "c0")]),  # worst is the median: shown once
])
def test_select_cases_rule(dice, expected):
    other = _volumes([0.0] * len(dice), method="ctct")
    label, labeled, seed, cases = figures.select_cases(pd.concat([_volumes(dice), other]))
    assert (label, labeled, seed, cases) == ("AdvMIM (S)", 2, 0, expected)


def test_select_cases_falls_back_to_best_row():
    vols = pd.concat([_volumes([0.2, 0.3], method="ctct", network="C"),
                      _volumes([0.5, 0.6], method="ctct", network="S")])
    assert figures.select_cases(vols)[0] == "CTCT (S)"


def test_largest_label_slice():
    label = np.zeros((4, 5, 5), np.uint8)
    label[1, :2] = 1
    label[3, :3] = 2
    assert figures.largest_label_slice(label) == 3


def _run(folder: Path, method: str, labeled: int, seed: int, terms: list[str]) -> Path:
    folder.mkdir(parents=True)
    write_json(folder / "config.json", {"method": method, "variant": None, "labeled": labeled, "seed": seed})
    with open(folder / "train_log.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["iteration", "lr", *terms])
        for it in range(1, 11):
            writer.writerow([it, 0.05 * (1 - it / 11), *[1 / it + k for k in range(len(terms))]])
    return folder


def test_training_curves_and_dice_vs_labeled(tmp_path):
    runs = figures.read_runs([_run(tmp_path / f"r{s}", "ctct", 2, s, ["loss", "sup_S", "cross"]) for s in (0, 1)])
    written = figures.training_curves(runs, tmp_path / "fig")
    assert [p.name for p in written] == ["curves_ctct.png", "curves_ctct.pdf"]
    assert _not_blank(written[0]) and written[1].read_bytes().startswith(b"%PDF")
    files = study(tmp_path / "m", seeds=(0, 1))
    dice = figures.dice_vs_labeled(collect(files), tmp_path / "fig" / "dice_vs_labeled")
    assert _not_blank(dice[0]) and not list((tmp_path / "fig").glob(".*.tmp"))


def test_qualitative_runs_inference(phantom_data, tiny_settings, tmp_path):
    from report_helpers import write_metrics

    from advmim.data.splits import read_list
    from advmim.models import build_model
    from advmim.train.checkpoint import save_checkpoint

    settings = tiny_settings("supervised_unet", labeled=1)
    net = build_model("unet", settings["num_classes"], settings["img_size"], **settings["models"]["unet"])
    run = tmp_path / "run"
    run.mkdir()
    write_json(run / "config.json", settings)
    save_checkpoint(run / "model.pt", {"settings": settings, "nets": {"C": net.state_dict()}})
    cases = read_list(phantom_data / "test.list")
    metrics = write_metrics(tmp_path, "supervised_unet", 1, 0, {"C": [0.5] * len(cases)})
    vols = collect_volumes([metrics]).assign(case=cases)
    out = figures.qualitative(vols, figures.read_runs([run / "model.pt"]), phantom_data, tmp_path / "q")
    assert [p.suffix for p in out] == [".png", ".pdf"] and _not_blank(out[0])


def two_labeled_counts(files) -> pd.DataFrame:
    """The study at 2 labeled and again at 1 (the upper bound once: it has no labeled count)."""
    df = collect(files)
    return pd.concat([df, df[df["method"] != "full_unet"].assign(labeled=1)], ignore_index=True)


def test_dice_figure_rows_in_table_order_distinct_and_legend_outside(tmp_path):
    files = study(tmp_path / "m", seeds=(0, 1))
    fig = figures.dice_figure(two_labeled_counts(files), ["supervised_unet", "ctct", "advmim", "full_unet"])
    ax = fig.axes[0]
    legend = ax.get_legend()
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == ["U-Net (labeled only) — lower bound", "CTCT (C)", "CTCT (S)", "AdvMIM (C)",
                      "AdvMIM (S)", "U-Net (all labels) — upper bound"]  # the table's row order
    fig.canvas.draw()
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1  # beside the axes, not on them
    rows = [c.lines[0] for c in ax.containers]  # the error-bar rows, drawn in table order
    upper = [line for line in ax.get_lines() if line.get_linestyle() == ":"]  # a level: one point
    colours = [str(line.get_color()) for line in [*rows, *upper]]
    assert len(rows) == 5 and len(upper) == 1 and len(set(colours)) == 6
    assert len({line.get_marker() for line in rows}) == 5 and rows[0].get_linestyle() == "--"
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_training_curves_smooth_over_faint_raw_values(tmp_path):
    window = np.array([1.0, 3.0, np.nan, 5.0])
    np.testing.assert_allclose(figures.smooth(window, 2), [1.0, 2.0, 3.0, 5.0])
    runs = figures.read_runs([_run(tmp_path / "r0", "ctct", 2, 0, ["loss"])])
    assert _not_blank(figures.training_curves(runs, tmp_path / "fig")[0])


def test_qualitative_is_a_grid(phantom_data, tiny_settings, tmp_path):
    """Many networks wrap into rows of QUALITATIVE_COLUMNS panels, not one very wide row."""
    import matplotlib.image as mpimg
    from report_helpers import write_metrics

    from advmim.data.splits import read_list
    from advmim.models import build_model
    from advmim.train.checkpoint import save_checkpoint

    settings = tiny_settings("supervised_unet", labeled=1)
    net = build_model("unet", settings["num_classes"], settings["img_size"], **settings["models"]["unet"])
    run = tmp_path / "run"
    run.mkdir()
    write_json(run / "config.json", settings)
    save_checkpoint(run / "model.pt", {"settings": settings, "nets": {"C": net.state_dict()}})
    cases = read_list(phantom_data / "test.list")
    metrics = write_metrics(tmp_path, "supervised_unet", 1, 0, {"C": [0.5] * len(cases)})
    vols = collect_volumes([metrics]).assign(case=cases)
    out = figures.qualitative(vols, figures.read_runs([run] * 9), phantom_data, tmp_path / "q")
    height, width = mpimg.imread(out[0]).shape[:2]
    assert width < 2.2 * figures.QUALITATIVE_COLUMNS * 120 + 100 and height > width / 3  # 11 panels: 2 rows


def test_one_labeled_count_draws_each_seed_per_row(tmp_path):
    """With one labeled count (the embedded default) a Dice-vs-labeled line would be a point: the
    figure shows each seed's Dice per row instead, rows in table order, both bounds as lines."""
    files = study(tmp_path / "m", seeds=(0, 1, 2))
    fig = figures.dice_figure(collect(files), ["supervised_unet", "ctct", "advmim", "full_unet"])
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["U-Net (labeled only)", "CTCT (C)", "CTCT (S)", "AdvMIM (C)", "AdvMIM (S)",
                      "U-Net (all labels)"]
    dots = [c for c in ax.collections if len(c.get_offsets())]
    assert [len(c.get_offsets()) for c in dots] == [3] * 6  # one dot per seed
    bound_lines = [line for line in ax.get_lines() if line.get_linestyle() in ("--", ":")]
    assert sorted(line.get_linestyle() for line in bound_lines) == ["--", ":"]
    assert _not_blank(figures.save_figure(fig, tmp_path / "seeds")[0])
