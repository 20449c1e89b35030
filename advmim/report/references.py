"""Published numbers from papers and their repositories, each row with its source.

File format (CSV, ``#`` lines are comments): ``dataset, method, labeled, metric, value, source``
and an optional ``protocol``. ``method`` is a registry name (``advmim``) or ``name:NETWORK``
(``advmim:C``); a bare name means the method's first reported network. ``labeled`` is ignored for
methods trained on all labels (upper bounds). ``metric`` is a table metric's key
(:mod:`advmim.report.metric_defs`: ``dice``, ``hd95``, ...), in the table's display units
(Dice in %; distances as the source reports them). ``source`` is mandatory (paper + table, or ``owner/repo@commit:path``): rows
without one are rejected, so the tables never show a number whose origin is unknown. ``protocol``
says how the source evaluated (checkpoint, split, or where it quotes a number from); the table
footnote lists it. Each source is one "published" column of the tables, never averaged with
another source (their protocols differ).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from advmim.errors import ConfigError
from advmim.report.metric_defs import METRICS

COLUMNS = ["dataset", "method", "labeled", "metric", "value", "source"]
OPTIONAL = ["protocol"]


def load_references(path: str | Path) -> pd.DataFrame:
    """Read and validate a reference file; adds ``network`` (missing = first reported network)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"reference results {path}: file not found") from exc
    reader = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"reference results {path}: missing column(s) {missing}; expected {COLUMNS}")
    rows, errors, seen = [], [], set()
    for i, row in enumerate(reader, start=1):
        line = f"row {i} ({row.get('method')}, {row.get('labeled')} labeled, {row.get('metric')})"
        if None in row or None in row.values():
            errors.append(f"{line}: expected {len(reader.fieldnames)} fields (quote values that contain commas)")
            continue
        row = {k: v.strip() for k, v in row.items()}
        row.setdefault("protocol", "")
        if not row["source"]:
            errors.append(f"{line}: no source — every reference number must say where it came from")
        if row["metric"] not in METRICS:
            errors.append(f"{line}: metric must be one of {sorted(METRICS)}")
        try:
            row["labeled"], row["value"] = int(row["labeled"]), float(row["value"])
        except ValueError:
            errors.append(f"{line}: labeled must be an integer and value a number")
        method, _, network = row["method"].partition(":")
        cell = (row["dataset"], row["method"], row["labeled"], row["metric"], row["source"])
        if cell in seen:
            errors.append(f"{line}: given twice by the same source")
        seen.add(cell)
        rows.append({**{c: row[c] for c in [*COLUMNS, *OPTIONAL]}, "method": method,
                     "network": network or None})
    if errors:
        raise ConfigError(f"reference results {path}:\n  " + "\n  ".join(errors))
    return pd.DataFrame(rows, columns=[*COLUMNS, *OPTIONAL, "network"])


def sources(refs: pd.DataFrame | None, dataset: str) -> list[tuple[str, str]]:
    """(source, its protocols joined by "; ") of ``dataset``, in file order: the table's [1], [2]."""
    if refs is None or refs.empty:
        return []
    hit = refs[refs["dataset"] == dataset]
    out = {}
    for source, protocol in zip(hit["source"], hit["protocol"], strict=True):
        out.setdefault(source, [])
        if protocol and protocol not in out[source]:
            out[source].append(protocol)
    return [(source, "; ".join(protocols)) for source, protocols in out.items()]


def reference_for(refs: pd.DataFrame | None, dataset: str, method: str, network: str,
                  labeled: int, metric: str, source: str) -> float | None:
    """The value ``source`` publishes for one table cell, or None."""
    if refs is None or refs.empty:
        return None
    from advmim.methods import method_card

    cls = method_card(method)
    first = next(iter(cls.reported), None)
    hit = refs[(refs["dataset"] == dataset) & (refs["method"] == method) & (refs["metric"] == metric)
               & (refs["source"] == source) & ((refs["labeled"] == labeled) | cls.all_labels)]
    hit = hit[[net == network or (not isinstance(net, str) and network == first) for net in hit["network"]]]
    if hit.empty:
        return None
    return float(hit["value"].iloc[0])
