"""LaTeX (booktabs) rendering of a table's flat frame (from :func:`advmim.report.table.main_table`)."""

from __future__ import annotations

import pandas as pd

from advmim.report.layout import GROUP_ORDER, GROUP_TITLE, column_layout, published_key

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
            "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
            "±": r"$\pm$", "†": r"$^{\dagger}$", "‡": r"$^{\ddagger}$", "↑": r"$\uparrow$",
            "↓": r"$\downarrow$", "–": "--", "—": "---", "≥": r"$\geq$", "≤": r"$\leq$"}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters and map the few Unicode symbols the tables use."""
    return "".join(_SPECIAL.get(ch, ch) for ch in str(text))


def _cell(mean: float, std: float, n: int, best: bool, mark: str = "") -> str:
    text = f"{mean:.2f}" + (rf" $\pm$ {std:.2f}" if n > 1 and pd.notna(std) else "")
    text = rf"\textbf{{{text}}}" if best else text
    return text + latex_escape(mark)


def latex_table(flat: pd.DataFrame, caption: str, footnote: str = "", label: str = "") -> str:
    """A complete ``table`` environment: grouped rows, best per column in bold, marks kept."""
    ratios = sorted(flat["labeled"].unique())
    layout = {lab: column_layout(flat, lab) for lab in ratios}
    ncols = 1 + sum(len(v) for v in layout.values())
    head = {"dice": r"Dice (\%) $\uparrow$", "hd95": r"HD95 $\downarrow$"}
    published = {"dice": "Dice published", "hd95": "HD95 published"}

    def title(metric: str, col: str | None) -> str:
        return head[metric] if col is None else f"{published[metric]} [{published_key(col)}]"

    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(caption)}}}"]
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [r"\begin{tabular}{l" + "".join("r" * len(layout[lab]) for lab in ratios) + "}", r"\toprule"]
    spans, rules, start = [], [], 2
    for lab in ratios:
        k = len(layout[lab])
        spans.append(rf"\multicolumn{{{k}}}{{c}}{{{lab} labeled}}")
        rules.append(rf"\cmidrule(lr){{{start}-{start + k - 1}}}")
        start += k
    lines += ["Method & " + " & ".join(spans) + r" \\", "".join(rules),
              " & " + " & ".join(title(m, c) for lab in ratios for m, c in layout[lab]) + r" \\", r"\midrule"]
    rows = list(dict.fromkeys(zip(flat["group"], flat["row"], strict=True)))
    rows.sort(key=lambda gr: GROUP_ORDER.index(gr[0]))
    group = None
    for g, name in rows:
        if g != group:
            if group is not None:
                lines.append(r"\midrule")
            lines.append(rf"\multicolumn{{{ncols}}}{{l}}{{\textit{{{latex_escape(GROUP_TITLE[g])}}}}} \\")
            group = g
        cells = [latex_escape(name)]
        for lab in ratios:
            hit = flat[(flat["row"] == name) & (flat["labeled"] == lab)]
            if hit.empty:
                cells += ["--"] * len(layout[lab])
                continue
            r = hit.iloc[0]
            n = int(r["n_seeds"])
            for metric, col in layout[lab]:
                if col:
                    cells.append(f"{r[col]:.2f}" if pd.notna(r[col]) else "--")
                elif metric == "dice":
                    cells.append(_cell(100 * r["dice"], 100 * r["dice_std"], n, bool(r["dice_best"]), r["mark"] or ""))
                else:
                    cells.append(_cell(r["hd95"], r["hd95_std"], n, bool(r["hd95_best"])))
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    if footnote:
        lines += [r"\par\smallskip", r"\parbox{\linewidth}{\footnotesize " + latex_escape(footnote) + "}"]
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"
