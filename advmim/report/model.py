"""The table model: built once from the metrics, rendered to every format.

A :class:`Table` has columns (per labeled ratio: each metric of ours, the published values beside
it, the missed structures) and rows (grouped as the method cards say) of :class:`Cell` s (value,
std, n, best flag, marks, missed count). :meth:`Table.render` is the one walk over the grid; a
format (Markdown, LaTeX, HTML, rich) only says how a header, a group line, a row and a cell look.

Best per column: the best value by the metric's direction among the cells that cannot flatter a
miss (a distance metric in a mode that scores a missed structure 0 is never best when its cell
has a miss).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from advmim.methods import method_card
from advmim.report.collect import row_label
from advmim.report.layout import GROUP_ORDER, GROUP_TITLE
from advmim.report.metric_defs import MetricDef, primary, table_metrics
from advmim.report.references import reference_for, sources
from advmim.report.stats import ROW_KEYS, marks_for, summarise


@dataclass(frozen=True)
class Cell:
    """One table cell; ``value``/``std`` in display units, ``missed``: structures missed behind it."""

    value: float | None
    std: float | None = None
    n: int = 1
    best: bool = False
    marks: str = ""
    missed: int | None = None
    digits: int = 2

    def text(self) -> str:
        """``mean ± std`` (std only where n > 1), ``–`` without a value."""
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return "–"
        text = f"{self.value:.{self.digits}f}"
        if self.n > 1 and self.std is not None and not math.isnan(self.std):
            text += f" ± {self.std:.{self.digits}f}"
        return text


@dataclass(frozen=True)
class Column:
    """``kind``: ``ours`` (a metric of ours), ``published`` (source ``source``) or ``missed``."""

    labeled: int
    kind: str
    metric: MetricDef | None = None
    source: int | None = None
    beside_published: bool = False

    def title(self, mode: str) -> str:
        if self.kind == "missed":
            return "missed"
        head = self.metric.header(mode)
        if self.kind == "published":
            return f"{head} published [{self.source}]"
        return f"{head} ours" if self.beside_published else head


@dataclass
class Row:
    name: str
    group: str
    cells: list  # Cell | None, aligned with Table.columns
    records: list = field(default_factory=list)  # flat CSV rows, one per labeled ratio


@dataclass
class Table:
    title: str
    cls: str
    mode: str
    columns: list
    rows: list
    footnote: str = ""
    sources: list = field(default_factory=list)  # (source, protocol) of published [1], [2], ...

    def spans(self) -> list[tuple[int, int]]:
        """(labeled, number of columns) in column order."""
        out: dict[int, int] = {}
        for col in self.columns:
            out[col.labeled] = out.get(col.labeled, 0) + 1
        return list(out.items())

    def render(self, fmt):
        """The one walk over the grid; ``fmt`` (a :class:`Format`) says how each part looks."""
        fmt.start(self)
        group = None
        for row in self.rows:
            if row.group != group:
                fmt.group(GROUP_TITLE[row.group], first=group is None)
                group = row.group
            fmt.row(row.name, [fmt.cell(c, col) for c, col in zip(row.cells, self.columns, strict=True)])
        return fmt.finish(self)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([r for row in self.rows for r in row.records])


class Format:
    """How one output format draws a table: subclasses fill these in (see advmim.report.render)."""

    def start(self, table: Table) -> None: ...
    def group(self, title: str, first: bool) -> None: ...
    def row(self, name: str, cells: list) -> None: ...
    def cell(self, cell: Cell | None, column: Column): ...
    def finish(self, table: Table): ...


def ordered_rows(summary: pd.DataFrame, method_order: list[str],
                 variant_order: list[str] | None = None) -> list[tuple]:
    """(method, variant, network) in table order: group, configured method order, configured
    variant order (ablations), then network as reported."""
    variants = list(variant_order or [])
    seen = []
    for method in method_order:
        for m, v, n in summary[summary["method"] == method][ROW_KEYS].itertuples(index=False):
            key = (m, v if isinstance(v, str) else None, n)  # NaN != NaN: normalise before comparing
            if key not in seen:
                seen.append(key)
    return sorted(seen, key=lambda k: (GROUP_ORDER.index(method_card(k[0]).group), method_order.index(k[0]),
                                       variants.index(k[1]) if k[1] in variants else -1))


def source_label(source: tuple[str, str]) -> str:
    """``source`` or ``source (protocol)`` of a (source, protocol) pair."""
    return f"{source[0]} ({source[1]})" if source[1] else source[0]


def _best(summary: pd.DataFrame, metric: MetricDef, mode: str) -> dict[int, float | None]:
    """Best value per labeled ratio among the cells that cannot flatter a miss."""
    eligible = summary if mode not in metric.hides_miss else summary[summary["missed"] == 0]
    return {lab: metric.best(grp[metric.key].tolist()) for lab, grp in eligible.groupby("labeled")}


def _columns(ratios: list[int], metrics: list[MetricDef], published: dict, n_sources: int) -> list[Column]:
    """Per ratio: each metric of ours, then its published columns that hold a value, then missed."""
    columns = []
    for lab in ratios:
        for m in metrics:
            pub = [k for k in range(1, n_sources + 1)
                   if any(v is not None for (_, lb, mk, kk), v in published.items() if (lb, mk, kk) == (lab, m.key, k))]
            columns.append(Column(lab, "ours", m, beside_published=bool(pub)))
            columns += [Column(lab, "published", m, source=k) for k in pub]
        columns.append(Column(lab, "missed"))
    return columns


def _record(base: dict, r: pd.Series, columns: list[Column], cells: list, sources_: list) -> dict:
    """The flat CSV row of one row at one ratio (values unscaled, as in the metrics files)."""
    rec = {**base, "n_seeds": int(r["n"])}
    for col, cell in zip(columns, cells, strict=True):
        if col.labeled != base["labeled"] or cell is None:
            continue
        if col.kind == "ours":
            m = col.metric
            rec.update({m.key: r[m.key], f"{m.key}_std": r[f"{m.key}_std"], f"{m.key}_best": cell.best})
            if cell.marks:
                rec["mark"] = cell.marks
        elif col.kind == "published":
            rec[f"published_{col.source}_{col.metric.key}"] = cell.value
            if cell.value is not None:
                rec[f"published_{col.source}_source"] = source_label(sources_[col.source - 1])
    rec.update({"missed": int(r["missed"]), "structures": int(r["structures"])})
    rec.setdefault("mark", "")
    return rec


def build_table(runs: pd.DataFrame, method_order: list[str], title: str, cls: str = "mean",
                labels: dict | None = None, tests: pd.DataFrame | None = None,
                refs: pd.DataFrame | None = None, metric_keys: list[str] | None = None) -> Table:
    """The table of one class (or the class mean) from :func:`advmim.report.collect.run_frame`.

    ``tests`` (:func:`advmim.report.stats.compare`) marks the primary metric's cells; ``refs``
    (:func:`advmim.report.references.load_references`) adds, after each metric of ours, one
    published column per source with a value at that ratio (class mean only; never averaged).
    """
    labels = labels or {}
    summary = summarise(runs, cls)
    mode = str(runs["mode"].iloc[0])
    dataset = runs["dataset"].iloc[0]
    metrics = table_metrics(runs.columns, metric_keys)
    srcs = sources(refs, dataset) if cls == "mean" else []
    keys = ordered_rows(summary, method_order, list(labels))
    ratios = sorted(summary["labeled"].unique())
    best = {m.key: _best(summary, m, mode) for m in metrics}
    published = {(key, lab, m.key, k): reference_for(refs, dataset, key[0], key[2], lab, m.key, src[0])
                 for key in keys if key[1] is None for lab in ratios for m in metrics
                 for k, src in enumerate(srcs, start=1)}
    columns = _columns(ratios, metrics, published, len(srcs))

    def cell(key, col: Column, r) -> Cell | None:
        if r is None:
            return None
        if col.kind == "missed":
            return Cell(int(r["missed"]), digits=0)
        if col.kind == "published":
            return Cell(published.get((key, col.labeled, col.metric.key, col.source)))
        m, missed = col.metric, int(r["missed"])
        flatters = mode in m.hides_miss and missed > 0
        marks = (marks_for(tests, key[0], key[2], col.labeled)
                 if m is primary() and cls == "mean" and key[1] is None else "")
        return Cell(m.scale * r[m.key], m.scale * r[f"{m.key}_std"], int(r["n"]), marks=marks, missed=missed,
                    best=not flatters and r[m.key] == best[m.key].get(col.labeled))

    rows = []
    for key in keys:
        method, variant, network = key
        mine = summary[(summary["method"] == method) & (summary["network"] == network)
                       & (summary["variant"].isna() if variant is None else summary["variant"] == variant)]
        at = {int(r["labeled"]): r for _, r in mine.iterrows()}
        name = row_label(method, network, variant, labels.get(variant) if variant else None)
        group = method_card(method).group
        cells = [cell(key, col, at.get(col.labeled)) for col in columns]
        records = [_record({"row": name, "method": method, "variant": variant, "network": network,
                            "labeled": lab, "class": cls, "group": group}, at[lab], columns, cells, srcs)
                   for lab in ratios if lab in at]
        rows.append(Row(name, group, cells, records))
    return Table(title, cls, mode, columns, rows, sources=srcs)
