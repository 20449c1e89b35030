"""Show result tables in the terminal as rich tables (rendered from a table's flat frame)."""

from __future__ import annotations

import os

import pandas as pd


def _cell(mean: float, std: float, n: int, best: bool, mark: str = "") -> str:
    text = f"{mean:.2f}" + (f" ± {std:.2f}" if n > 1 and pd.notna(std) else "")
    return (f"[bold green]{text}[/]" if best else text) + (mark or "")


def rich_table(flat: pd.DataFrame, title: str, footnote: str = ""):
    """A :class:`rich.table.Table`: one row per table row, Dice/HD95 per labeled ratio, best in bold."""
    from rich.markup import escape
    from rich.table import Table

    from advmim.report.layout import GROUP_TITLE, column_layout, published_key

    ratios = sorted(flat["labeled"].unique())
    layout = {lab: column_layout(flat, lab) for lab in ratios}
    head = {"dice": "Dice % ↑", "hd95": "HD95 ↓"}
    short = {"dice": "Dice", "hd95": "HD95"}
    table = Table(title=title, caption=footnote or None, caption_justify="left", show_lines=False)
    table.add_column("Method", no_wrap=True)
    for lab in ratios:
        for metric, col in layout[lab]:
            if col is None:  # ours: never squeezed out by the published columns
                table.add_column(f"{lab} lab.\n{head[metric]}", justify="right", no_wrap=True,
                                 min_width=len(head[metric]))
            else:
                table.add_column(f"{lab} lab.\n{short[metric]} pub.\n[{published_key(col)}]",
                                 justify="right", no_wrap=True, style="dim")
    group = None
    for name in dict.fromkeys(flat["row"]):
        rows = flat[flat["row"] == name]
        g = rows["group"].iloc[0]
        if g != group:
            if group is not None:
                table.add_section()
            table.add_row(f"[italic]{GROUP_TITLE[g]}[/]")
            group = g
        cells = [escape(name)]
        for lab in ratios:
            hit = rows[rows["labeled"] == lab]
            if hit.empty:
                cells += ["–"] * len(layout[lab])
                continue
            r = hit.iloc[0]
            n = int(r["n_seeds"])
            for metric, col in layout[lab]:
                if col:
                    cells.append(f"{r[col]:.2f}" if pd.notna(r[col]) else "–")
                elif metric == "dice":
                    cells.append(_cell(100 * r["dice"], 100 * r["dice_std"], n, bool(r["dice_best"]), r["mark"]))
                else:
                    cells.append(_cell(r["hd95"], r["hd95_std"], n, bool(r["hd95_best"])))
        table.add_row(*cells)
    return table


def print_table(flat: pd.DataFrame, title: str, footnote: str = "", console=None) -> None:
    """Print :func:`rich_table` to ``console`` (default: stdout)."""
    from rich.console import Console

    (console or Console()).print(rich_table(flat, title, footnote))


def table_html(flat: pd.DataFrame, title: str, footnote: str = "") -> str:
    """The same rich table as a standalone HTML page (viewable inside the Snakemake report)."""
    from rich.console import Console

    width = max(160, 24 + 12 * sum(1 for c in flat.columns if c.startswith("published_")))
    with open(os.devnull, "w") as sink:
        console = Console(record=True, width=width, file=sink)
        console.print(rich_table(flat, title, footnote))
    return console.export_html(inline_styles=True)
