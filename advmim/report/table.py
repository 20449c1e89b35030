"""Result tables: build the model once per class, render Markdown, CSV, LaTeX, HTML (and the
terminal), write every format or none."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd

from advmim.report.metric_defs import METRICS
from advmim.report.model import Cell, Column, Format, Table, build_table, source_label
from advmim.report.stats import ROW_KEYS

MD_SPECIAL = set("\\`*_[]<|")


def markdown_escape(text: str) -> str:
    """Backslash-escape the characters Markdown (and its inline HTML) would interpret."""
    return "".join("\\" + ch if ch in MD_SPECIAL else ch for ch in str(text))


class MarkdownFormat(Format):
    """A pipe table: group lines in italics, best per column in bold, marks after the value."""

    def start(self, table: Table) -> None:
        self.n = len(table.columns)
        self.lines = ["| Method | " + " | ".join(f"{c.labeled} labeled: {markdown_escape(c.title(table.mode))}"
                                                 for c in table.columns) + " |",
                      "|---|" + "---:|" * self.n]

    def group(self, title: str, first: bool) -> None:
        self.lines.append(f"| *{markdown_escape(title)}* |" + " |" * self.n)

    def row(self, name: str, cells: list) -> None:
        self.lines.append(f"| {markdown_escape(name)} | " + " | ".join(cells) + " |")

    def cell(self, cell: Cell | None, column: Column) -> str:
        if cell is None:
            return "–"
        text = f"**{cell.text()}**" if cell.best else cell.text()
        return text + (f" {markdown_escape(cell.marks)}" if cell.marks else "")

    def finish(self, table: Table) -> str:
        if table.footnote:
            self.lines += ["", f"_{markdown_escape(table.footnote)}_"]
        return "\n".join(self.lines) + "\n"


def _n_text(df: pd.DataFrame) -> str:
    counts = sorted(df.groupby([*ROW_KEYS, "labeled"], dropna=False)["seed"].nunique().unique())
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


def _values(df: pd.DataFrame, column: str, fallback) -> str:
    """The distinct values of ``column`` joined by '/' (``fallback`` when the column is absent)."""
    if column not in df or df[column].isna().all():
        return str(fallback)
    return "/".join(map(str, sorted(df[column].dropna().unique())))


SPLIT_TEXT = {"test": "test split", "val": "validation split",
              "val+test": "validation and test splits combined (CTCT's protocol)"}


def _pretrained_text(pretrained: str | None) -> str:
    from advmim.config import MIM
    from advmim.models.settings import IMAGENET, SWIN_T_FILE

    if not pretrained:
        return "trained from scratch (no pretrained weights)"
    if pretrained == MIM:
        return ("pretrained by masked image modelling on this dataset's training images, no labels "
                "(pretrained: mim; not the paper's ImageNet Swin-T)")
    return f"ImageNet Swin-T ({SWIN_T_FILE if pretrained == IMAGENET else pretrained})"


def footnote_text(df: pd.DataFrame, config: dict) -> str:
    seeds = sorted(df["seed"].unique())
    pretrained = config.get("models", {}).get("swin_unet", {}).get("pretrained")
    mode = "/".join(sorted(df["mode"].unique()))
    split = _values(df, "split", config["evaluation"]["split"])
    mode_text = {"paper": "paper mode (SSL4MIS: HD95 in voxels, empty prediction scores Dice 0, HD95 0)",
                 "strict": "strict mode (HD95 in mm, max of directed 95th percentiles; missed structure = volume diagonal)"}
    return (
        f"Dataset: {config['dataset']['name']} ({SPLIT_TEXT.get(split, split)}, last-iteration "
        f"checkpoint, no checkpoint selection; "
        f"per-volume 3D metrics averaged over volumes then classes). Metrics: "
        f"{mode_text.get(mode, mode)}. Iterations: {_values(df, 'iterations', '?')} at "
        f"{_values(df, 'img_size', config['training']['img_size'])} px. Seeds: {', '.join(map(str, seeds))} "
        f"(seeds per cell: n = {_n_text(df)}, CSV column n_seeds; mean ± std over seeds where n > 1). "
        f"Swin-UNet encoder: "
        f"{_pretrained_text(pretrained)}."
    )


MISSED_TEXT = ("Missed (column): structures (volume x class) with an empty prediction where the ground truth has "
               "one, summed over the cell's runs; {hidden} scores such a miss 0 in {mode} mode, so a "
               "cell with a miss is never bold for it.")


def full_footnote(df: pd.DataFrame, config: dict, table: Table, tests_note: str = "") -> str:
    """Protocol footnote, missed structures, the tests and the sources of published numbers."""
    parts = [footnote_text(df, config)]
    hidden = [m.title for m in METRICS.values() if table.mode in m.hides_miss and m.key in df.columns]
    parts.append(MISSED_TEXT.format(hidden="/".join(hidden) or "no metric", mode=table.mode))
    if tests_note:
        parts.append(tests_note)
    used = {c.source for c in table.columns if c.kind == "published"}
    if used:
        parts.append(
            "Published: numbers as their source reports them, one column per source, never "
            "averaged together; their protocols differ from ours (the last iteration's weights): "
            + "; ".join(f"[{k}] {source_label(table.sources[k - 1])}" for k in sorted(used)) + "."
        )
    return " ".join(parts)


def render_tables(runs: pd.DataFrame, config: dict, method_order: list[str], title: str,
                  labels: dict | None = None, tests: pd.DataFrame | None = None, tests_note: str = "",
                  refs: pd.DataFrame | None = None) -> tuple[Table, dict[str, str]]:
    """The class-mean table and the text of every file format: {suffix: text}
    (``.md``/``.html`` with the per-class tables, ``.csv`` flat, ``.tex`` the class mean)."""
    from advmim.report.html import html_page
    from advmim.report.latex import latex_table

    keys = config.get("report", {}).get("metrics")
    main = build_table(runs, method_order, title, labels=labels, tests=tests, refs=refs, metric_keys=keys)
    main.footnote = full_footnote(runs, config, main, tests_note)
    per_class = [build_table(runs, method_order, title, cls=cls, labels=labels, metric_keys=keys)
                 for cls in config["dataset"]["class_names"]]
    md = [f"# {markdown_escape(title)}\n", main.render(MarkdownFormat())]
    md += [part for t in per_class for part in (f"\n## {markdown_escape(t.cls)}\n", t.render(MarkdownFormat()))]
    texts = {
        ".md": "\n".join(md),
        ".csv": pd.concat([t.frame() for t in (main, *per_class)]).to_csv(index=False),
        ".tex": latex_table(main),
        ".html": html_page(title, [("", main), *((t.cls, t) for t in per_class)], main.footnote),
    }
    return main, texts


def write_all(files: dict[Path, str]) -> None:
    """Write every file or none: all are rendered already; each goes to a temporary beside its
    target, and the renames start only when every temporary is written."""
    from advmim.io import atomic_path

    with contextlib.ExitStack() as stack:
        for path, text in files.items():
            tmp = stack.enter_context(atomic_path(path))
            tmp.write_text(text, encoding="utf-8")
