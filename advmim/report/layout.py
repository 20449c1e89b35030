"""Column and row layout shared by the table renderers (Markdown, LaTeX, terminal/HTML) and the
figures: table groups and the published-value columns of the flat frame."""

from __future__ import annotations

import re

import pandas as pd

GROUP_ORDER = ["lower", "semi", "ours", "upper"]
GROUP_TITLE = {"lower": "Supervised (labeled only)", "semi": "Semi-supervised",
               "ours": "Ours", "upper": "Fully supervised"}


PUBLISHED = re.compile(r"^published_(\d+)_(dice|hd95)$")
METRIC_TITLE = {"dice": "Dice ↑", "hd95": "HD95 ↓"}


def column_layout(flat: pd.DataFrame, labeled: int) -> list[tuple[str, str | None]]:
    """Columns of one labeled ratio: (metric, None) for ours, each followed by its
    (metric, ``published_<k>_<metric>``) columns that hold a value at this ratio."""
    at = flat[flat["labeled"] == labeled]
    out = []
    for metric in METRIC_TITLE:
        out.append((metric, None))
        found = sorted((int(m.group(1)), c) for c in flat.columns
                       if (m := PUBLISHED.match(c)) and m.group(2) == metric)
        out += [(metric, c) for _, c in found if at[c].notna().any()]
    return out


def published_sources(flat: pd.DataFrame) -> dict[int, str]:
    """{k: source label} of the published columns that hold a value."""
    out = {}
    for col in flat.columns:
        m = re.match(r"^published_(\d+)_source$", col)
        if m and flat[col].notna().any():
            out[int(m.group(1))] = str(flat[col].dropna().iloc[0])
    return dict(sorted(out.items()))


def published_key(col: str) -> int:
    return int(PUBLISHED.match(col).group(1))
