"""HTML rendering of :class:`advmim.report.model.Table` s: real ``<table>`` elements (sortable,
stylable, pastable into a spreadsheet), every text escaped with :func:`html.escape`."""

from __future__ import annotations

from html import escape

from advmim.report.model import Cell, Column, Format, Table

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table.results { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
table.results th, table.results td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; }
table.results td { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.results thead th { background: #f3f3f3; border-bottom: 2px solid #999; }
table.results tbody th { text-align: left; font-weight: normal; white-space: nowrap; }
table.results tr.group th { font-style: italic; background: #fafafa; }
table.results td.published { color: #777; }
table.results td.missed { color: #777; }
table.results td.missed.hit { color: #b00; font-weight: bold; }
p.note { max-width: 70em; font-size: 0.85em; color: #444; }
"""


class HtmlFormat(Format):
    def start(self, table: Table) -> None:
        self.n = len(table.columns)
        self.lines = ['<table class="results">', "<thead>",
                      '<tr><th rowspan="2" scope="col">Method</th>'
                      + "".join(f'<th colspan="{k}" scope="colgroup">{lab} labeled</th>' for lab, k in table.spans())
                      + "</tr>",
                      "<tr>" + "".join(f'<th scope="col">{escape(c.title(table.mode))}</th>' for c in table.columns)
                      + "</tr>", "</thead>", "<tbody>"]

    def group(self, title: str, first: bool) -> None:
        self.lines.append(f'<tr class="group"><th colspan="{self.n + 1}" scope="rowgroup">{escape(title)}</th></tr>')

    def row(self, name: str, cells: list) -> None:
        self.lines.append(f'<tr><th scope="row">{escape(name)}</th>' + "".join(cells) + "</tr>")

    def cell(self, cell: Cell | None, column: Column) -> str:
        hit = " hit" if column.kind == "missed" and cell is not None and cell.value else ""
        css = f' class="{column.kind}{hit}"' if column.kind != "ours" else ""
        if cell is None:
            return f"<td{css}>–</td>"
        text = escape(cell.text())
        text = f"<b>{text}</b>" if cell.best else text
        if cell.marks:
            text += f" <sup>{escape(cell.marks)}</sup>"
        return f"<td{css}>{text}</td>"

    def finish(self, table: Table) -> str:
        self.lines += ["</tbody>", "</table>"]
        return "\n".join(self.lines) + "\n"


def html_page(title: str, sections: list[tuple[str, Table]], note: str = "") -> str:
    """A standalone page: ``sections`` are (heading, table); the first is followed by ``note``."""
    parts = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             f"<title>{escape(title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
             f"<h1>{escape(title)}</h1>"]
    for i, (heading, table) in enumerate(sections):
        if heading:
            parts.append(f"<h2>{escape(heading)}</h2>")
        parts.append(table.render(HtmlFormat()))
        if i == 0 and note:
            parts.append(f'<p class="note">{escape(note)}</p>')
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"
