"""Statistics for the tables: mean ± std over seeds and paired Wilcoxon tests against the best baseline.

Tests (two-sided, scipy.stats.wilcoxon, zero differences dropped as in Wilcoxon's original
rule) compare AdvMIM (S) with the best baseline (highest mean Dice over seeds among rows that are
neither 'ours' nor 'upper' bounds) at each labeled ratio:

- ``volume``: per-volume Dice (mean over classes), paired by test case. Each case's Dice is first
  averaged over the seeds both rows ran, so every case is one pair (cases are the independent
  units; seeds are repeated measurements of the same case).
- ``seed``: per-run mean Dice, paired by seed.

With fewer than ``MIN_PAIRS`` non-zero differences no p-value is given ("n too small"): with 5
pairs the smallest possible two-sided exact p-value is 0.0625, so p < 0.05 cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from advmim.methods import method_card
from advmim.report.summary import read_metrics

MIN_PAIRS = 6
ALPHA = 0.05
ROW_KEYS = ["method", "variant", "network"]
MARKS = {"volume": "†", "seed": "‡"}
OURS = ("advmim", None, "S")  # (method, variant, network) of the row tested against the baseline


def summarise(df: pd.DataFrame, cls: str = "mean") -> pd.DataFrame:
    """Mean, std and n over seeds per (row, labeled) for one class (or the class mean)."""
    sub = df[df["class"] == cls]
    keys = [*ROW_KEYS, "labeled"]
    agg = sub.groupby(keys, dropna=False).agg(
        dice=("dice", "mean"), dice_std=("dice", "std"),
        hd95=("hd95", "mean"), hd95_std=("hd95", "std"), n=("seed", "nunique"),
    )
    return agg.reset_index()


def collect_volumes(metric_files: Iterable[str | Path]) -> pd.DataFrame:
    """One row per (run, network, test case) with the case's Dice averaged over classes."""
    rows = []
    for path in metric_files:
        result = read_metrics(path)
        for network, net in result["networks"].items():
            for vol in net["per_volume"]:
                rows.append({
                    "dataset": result["dataset"], "method": result["method"],
                    "variant": result.get("variant"), "network": network,
                    "labeled": int(result["labeled"]), "seed": int(result["seed"]),
                    "case": vol["case"], "dice": float(np.mean([vol["dice"][c] for c in result["classes"]])),
                })
    return pd.DataFrame(rows, columns=["dataset", *ROW_KEYS, "labeled", "seed", "case", "dice"])


def paired_wilcoxon(a, b, min_pairs: int = MIN_PAIRS) -> dict:
    """Two-sided paired Wilcoxon signed-rank test of ``a`` vs ``b``.

    Returns ``{"n_pairs", "n_nonzero", "mean_diff", "statistic", "p_value", "note"}``;
    ``p_value`` is NaN and ``note`` says why when fewer than ``min_pairs`` differences are non-zero.
    """
    from scipy.stats import wilcoxon

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples need equal 1-D shapes, got {a.shape} and {b.shape}")
    diff = a - b
    n_nonzero = int(np.count_nonzero(diff))
    out = {"n_pairs": len(diff), "n_nonzero": n_nonzero,
           "mean_diff": float(diff.mean()) if len(diff) else float("nan"),
           "statistic": float("nan"), "p_value": float("nan"), "note": ""}
    if n_nonzero < min_pairs:
        out["note"] = f"n too small ({n_nonzero} non-zero of {len(diff)} pairs; need {min_pairs})"
        return out
    res = wilcoxon(a, b, zero_method="wilcox", alternative="two-sided")
    out["statistic"], out["p_value"] = float(res.statistic), float(res.pvalue)
    return out


def _is_row(df: pd.DataFrame, key: tuple) -> pd.Series:
    method, variant, network = key
    var = df["variant"].isna() if not isinstance(variant, str) else df["variant"] == variant
    return (df["method"] == method) & var & (df["network"] == network)


def best_baseline(summary: pd.DataFrame, labeled: int) -> tuple | None:
    """(method, variant, network) with the highest mean Dice at ``labeled`` among baseline rows."""
    col = summary[summary["labeled"] == labeled]
    col = col[[method_card(m).group not in ("ours", "upper") for m in col["method"]]]
    if col.empty:
        return None
    best = col.loc[col["dice"].idxmax()]
    return (best["method"], best["variant"], best["network"])


def compare_with_best_baseline(volumes: pd.DataFrame, runs: pd.DataFrame,
                               ours: tuple = OURS,
                               min_pairs: int = MIN_PAIRS) -> pd.DataFrame:
    """Volume- and seed-level tests of ``ours`` vs the best baseline at every labeled ratio.

    ``volumes`` comes from :func:`collect_volumes`, ``runs`` from :func:`advmim.report.collect.collect`.
    """
    from advmim.report.collect import row_label

    summary = summarise(runs)
    seed_dice = runs[runs["class"] == "mean"]
    rows = []
    for lab in sorted(summary["labeled"].unique()):
        base = best_baseline(summary, lab)
        if base is None or not _is_row(summary[summary["labeled"] == lab], ours).any():
            continue
        names = {"ours": row_label(ours[0], ours[2]), "baseline": row_label(base[0], base[2])}
        vol = volumes[volumes["labeled"] == lab]
        a, b = vol[_is_row(vol, ours)], vol[_is_row(vol, base)]
        paired = a.merge(b, on=["seed", "case"], suffixes=("_a", "_b"))
        per_case = paired.groupby("case")[["dice_a", "dice_b"]].mean()
        s = seed_dice[seed_dice["labeled"] == lab]
        seeds = s[_is_row(s, ours)].merge(s[_is_row(s, base)], on="seed", suffixes=("_a", "_b"))
        for unit, frame in (("volume", per_case), ("seed", seeds)):
            test = paired_wilcoxon(frame["dice_a"], frame["dice_b"], min_pairs)
            rows.append({"labeled": int(lab), **names, "unit": unit, **test,
                         "significant": bool(test["p_value"] < ALPHA)})
    return pd.DataFrame(rows, columns=["labeled", "ours", "baseline", "unit", "n_pairs", "n_nonzero",
                                       "mean_diff", "statistic", "p_value", "note", "significant"])


def marks_for(tests: pd.DataFrame | None, labeled: int) -> str:
    """Dagger marks for the 'ours' Dice cell at ``labeled`` (empty when nothing is significant)."""
    if tests is None or tests.empty:
        return ""
    hit = tests[(tests["labeled"] == labeled) & tests["significant"]]
    return "".join(MARKS[u] for u in MARKS if u in set(hit["unit"]))


def tests_footnote(tests: pd.DataFrame | None) -> str:
    """One sentence per labeled ratio describing the tests, for the table footnote."""
    if tests is None or tests.empty:
        return ""
    parts = [f"† / ‡: two-sided paired Wilcoxon signed-rank test (scipy, zero differences dropped) of "
             f"{tests['ours'].iloc[0]} vs the best baseline, p < {ALPHA}, over test volumes (†, per-case "
             f"Dice averaged over seeds) and over seeds (‡); no test with fewer than {MIN_PAIRS} non-zero pairs."]
    for lab, grp in tests.groupby("labeled"):
        cells = []
        for r in grp.itertuples(index=False):
            res = r.note if r.note else f"p = {r.p_value:.3g} (n = {r.n_nonzero})"
            cells.append(f"{r.unit}s: {res}")
        parts.append(f"{lab} labeled vs {grp['baseline'].iloc[0]}: " + "; ".join(cells) + ".")
    return " ".join(parts)
