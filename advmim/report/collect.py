"""Gather per-run metrics JSONs into one long table (pandas)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from advmim.methods import method_card
from advmim.report.summary import read_metrics


def row_label(method: str, network: str, variant: str | None = None, variant_label: str | None = None) -> str:
    """Display name of one table row: method (and network where a method reports several)."""
    if variant_label:
        base = variant_label
    elif variant:
        base = variant
    else:
        base = method_card(method).display_name
    suffix = method_card(method).reported.get(network, network)
    return f"{base} ({suffix})" if suffix else base


def collect(metric_files: Iterable[str | Path]) -> pd.DataFrame:
    """One row per (run, network, class) with the run's mean Dice/HD95; class 'mean' included."""
    rows = []
    for path in metric_files:
        result = read_metrics(path)
        for network, net in result["networks"].items():
            for cls in [*result["classes"], "mean"]:
                rows.append({
                    "dataset": result["dataset"], "method": result["method"],
                    "variant": result.get("variant"), "network": network,
                    "labeled": int(result["labeled"]), "seed": int(result["seed"]),
                    "mode": result["mode"], "iterations": result["iterations"],
                    "split": result.get("split", "test"), "img_size": result.get("img_size"),
                    "pretrained": result.get("pretrained"),
                    "class": cls, "dice": net["mean"]["dice"][cls], "hd95": net["mean"]["hd95"][cls],
                    "file": str(path),
                })
    return broadcast_all_labels(pd.DataFrame(rows))


def broadcast_all_labels(df: pd.DataFrame) -> pd.DataFrame:
    """Repeat the rows of runs trained on all labels (run once) under every labeled ratio."""
    if df.empty:
        return df
    upper = df["method"].map(lambda m: method_card(m).all_labels)
    ratios = sorted(df.loc[~upper, "labeled"].unique())
    if not upper.any() or not ratios:
        return df
    copies = [df.loc[upper].assign(labeled=int(r)) for r in ratios]
    return pd.concat([df.loc[~upper], *copies], ignore_index=True)
