"""Gather validated per-run metrics JSONs into long tables (pandas): one row per volume and class
(:func:`volume_frame`), per run and class (:func:`run_frame`, class ``mean`` included), per run
and test volume (:func:`volume_means`, for the tests and the qualitative figure).

Every number is computed from the per-volume values, as ``advmim evaluate`` aggregates them
(mean over volumes per class, ``null`` left out, then mean over classes); the validator has
checked that the stored means agree. A structure counts as missed where its ``status`` says so
(files without ``status``: where its Dice is 0).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from advmim.methods import method_card
from advmim.report.metric_defs import METRICS
from advmim.report.validate import load_metrics

RUN_KEYS = ["dataset", "method", "variant", "network", "labeled", "seed", "mode", "iterations",
            "split", "img_size", "pretrained", "file"]
CASE_PATIENT = re.compile(r"^(.+)_frame\d+$")


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


def patient_of(volume: dict) -> str:
    """The patient of a test volume: its ``patient`` entry, else ``<patient>`` of a case named
    ``<patient>_frameNN`` (ACDC's ED and ES frames), else the case (one volume per patient)."""
    if isinstance(volume.get("patient"), str):
        return volume["patient"]
    m = CASE_PATIENT.match(volume["case"])
    return m.group(1) if m else volume["case"]


def _value(v) -> float:
    return np.nan if v is None else float(v)


def volume_frame(results: dict[Path, dict]) -> pd.DataFrame:
    """One row per (run, network, volume, class): every metric present, ``missed``, ``patient``."""
    rows = []
    for path, result in results.items():
        run = {"dataset": result["dataset"], "method": result["method"], "variant": result.get("variant"),
               "labeled": int(result["labeled"]), "seed": int(result["seed"]), "mode": result["mode"],
               "iterations": result["iterations"], "split": result.get("split", "test"),
               "img_size": result.get("img_size"), "pretrained": result.get("pretrained"), "file": str(path)}
        for network, net in result["networks"].items():
            for vol in net["per_volume"]:
                status = vol.get("status") or {}
                for cls in result["classes"]:
                    missed = status[cls] == "missed" if cls in status else vol["dice"][cls] == 0
                    rows.append({**run, "network": network, "case": vol["case"], "patient": patient_of(vol),
                                 "class": cls, "missed": bool(missed),
                                 **{m: _value(vol[m][cls]) for m in METRICS if m in vol}})
    columns = [*RUN_KEYS, "case", "patient", "class", "missed"]
    present = [m for m in METRICS if any(m in r for r in rows)]
    return pd.DataFrame(rows, columns=[*columns, *present])


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metrics a frame carries, in definition order."""
    return [m for m in METRICS if m in frame.columns]


def run_frame(volumes: pd.DataFrame) -> pd.DataFrame:
    """One row per (run, network, class) with the mean of each metric over the volumes, the
    missed structures and the structures scored; class ``mean`` = mean over classes (sums of counts)."""
    metrics = metric_columns(volumes)
    keys = [k for k in RUN_KEYS if k != "file"]
    by_class = volumes.groupby([*keys, "file", "class"], dropna=False, sort=False).agg(
        **{m: (m, "mean") for m in metrics}, missed=("missed", "sum"), structures=("missed", "size"),
    ).reset_index()
    mean = by_class.groupby([*keys, "file"], dropna=False, sort=False).agg(
        **{m: (m, "mean") for m in metrics}, missed=("missed", "sum"), structures=("structures", "sum"),
    ).reset_index().assign(**{"class": "mean"})
    return pd.concat([by_class, mean], ignore_index=True)


def volume_means(volumes: pd.DataFrame, metric: str = "dice") -> pd.DataFrame:
    """One row per (run, network, test volume) with ``metric`` averaged over the classes."""
    keys = ["dataset", "method", "variant", "network", "labeled", "seed", "case", "patient"]
    return volumes.groupby(keys, dropna=False, sort=False)[metric].mean().reset_index()


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


def collect_all(metric_files: Iterable[str | Path], expect: dict | None = None) -> pd.DataFrame:
    """Validated files -> the per-volume frame, all-label runs under every labeled ratio."""
    return broadcast_all_labels(volume_frame(load_metrics(metric_files, expect)))


def collect(metric_files: Iterable[str | Path]) -> pd.DataFrame:
    """One row per (run, network, class) with the run's mean of each metric; class 'mean' included."""
    return run_frame(collect_all(metric_files))


def collect_volumes(metric_files: Iterable[str | Path]) -> pd.DataFrame:
    """One row per (run, network, test volume) with the volume's Dice averaged over classes."""
    return volume_means(collect_all(metric_files))
