"""LaTeX (booktabs) rendering of a :class:`advmim.report.model.Table`."""

from __future__ import annotations

from advmim.report.model import Cell, Column, Format, Table

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "±": r"$\pm$", "†": r"$^{\dagger}$", "‡": r"$^{\ddagger}$", "↑": r"$\uparrow$",
            "↓": r"$\downarrow$", "–": "--", "—": "---", "≥": r"$\geq$", "≤": r"$\leq$"}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters and map the few Unicode symbols the tables use."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


class LatexFormat(Format):
    """A complete ``table`` environment: grouped rows, best per column in bold, marks kept."""

    def __init__(self, caption: str, label: str = ""):
        self.caption, self.label, self.lines = caption, label, []

    def start(self, table: Table) -> None:
        spans = table.spans()
        self.ncols = 1 + len(table.columns)
        self.lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(self.caption)}}}"]
        if self.label:
            self.lines.append(rf"\label{{{latex_escape(self.label)}}}")
        self.lines += [r"\begin{tabular}{l" + "r" * len(table.columns) + "}", r"\toprule"]
        heads, rules, start = [], [], 2
        for lab, k in spans:
            heads.append(rf"\multicolumn{{{k}}}{{c}}{{{lab} labeled}}")
            rules.append(rf"\cmidrule(lr){{{start}-{start + k - 1}}}")
            start += k
        self.lines += ["Method & " + " & ".join(heads) + r" \\", "".join(rules),
                       " & " + " & ".join(latex_escape(c.title(table.mode)) for c in table.columns) + r" \\",
                       r"\midrule"]

    def group(self, title: str, first: bool) -> None:
        if not first:
            self.lines.append(r"\midrule")
        self.lines.append(rf"\multicolumn{{{self.ncols}}}{{l}}{{\textit{{{latex_escape(title)}}}}} \\")

    def row(self, name: str, cells: list) -> None:
        self.lines.append(" & ".join([latex_escape(name), *cells]) + r" \\")

    def cell(self, cell: Cell | None, column: Column) -> str:
        if cell is None:
            return "--"
        text = latex_escape(cell.text())
        text = rf"\textbf{{{text}}}" if cell.best else text
        return text + (" " + latex_escape(cell.marks) if cell.marks else "")

    def finish(self, table: Table) -> str:
        self.lines += [r"\bottomrule", r"\end{tabular}"]
        if table.footnote:
            self.lines += [r"\par\smallskip",
                           r"\parbox{\linewidth}{\footnotesize " + latex_escape(table.footnote) + "}"]
        self.lines.append(r"\end{table}")
        return "\n".join(self.lines) + "\n"


def latex_table(table: Table, caption: str | None = None, label: str = "") -> str:
    return table.render(LatexFormat(table.title if caption is None else caption, label))
