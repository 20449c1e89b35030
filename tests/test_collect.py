"""Collecting metrics: upper bounds (trained once on all labels) appear under every ratio."""

import pandas as pd

from advmim.report.collect import broadcast_all_labels


def test_all_label_runs_are_repeated_under_every_labeled_ratio():
    df = pd.DataFrame([
        {"method": "supervised_unet", "labeled": 2, "dice": 0.4},
        {"method": "supervised_unet", "labeled": 4, "dice": 0.5},
        {"method": "full_unet", "labeled": 2, "dice": 0.6},
    ])
    out = broadcast_all_labels(df)
    full = out[out["method"] == "full_unet"].sort_values("labeled")
    assert full["labeled"].tolist() == [2, 4] and full["dice"].tolist() == [0.6, 0.6]
    assert len(out[out["method"] == "supervised_unet"]) == 2
