"""Result tables: methods x labeled ratios x (Dice, HD95), Markdown and CSV, with a footnote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advmim.io import write_text
from advmim.methods import get_method
from advmim.report.collect import row_label
from advmim.report.references import reference_for
from advmim.report.stats import OURS, marks_for, summarise, tests_footnote

GROUP_ORDER = ["lower", "semi", "ours", "upper"]
GROUP_TITLE = {"lower": "Supervised (labeled only)", "semi": "Semi-supervised",
               "ours": "Ours", "upper": "Fully supervised"}


def _fmt(mean: float, std: float, n: int, digits: int) -> str:
    if n > 1 and pd.notna(std):
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    return f"{mean:.{digits}f}"


def ordered_rows(summary: pd.DataFrame, method_order: list[str],
                 variant_order: list[str] | None = None) -> list[tuple]:
    """(method, variant, network) in table order: group, configured method order, configured
    variant order (ablations), then network."""
    variants = list(variant_order or [])
    seen = []
    for method in method_order:
        for m, v, n in summary[summary["method"] == method][["method", "variant", "network"]].itertuples(index=False):
            key = (m, v if isinstance(v, str) else None, n)  # NaN != NaN: normalise before comparing
            if key not in seen:
                seen.append(key)
    return sorted(seen, key=lambda k: (GROUP_ORDER.index(get_method(k[0]).group), method_order.index(k[0]),
                                       variants.index(k[1]) if k[1] in variants else -1))


def main_table(df: pd.DataFrame, method_order: list[str], footnote: str, cls: str = "mean",
               labels: dict | None = None, tests: pd.DataFrame | None = None,
               refs: pd.DataFrame | None = None) -> tuple[str, pd.DataFrame]:
    """Markdown (grouped, best per column in bold) and a flat CSV frame.

    ``tests`` (:func:`advmim.report.stats.compare_with_best_baseline`) adds dagger marks to the
    AdvMIM (S) Dice cells; ``refs`` (:func:`advmim.report.references.load_references`) adds a
    "reported" column next to each reproduced metric that has a reference (class mean only).
    """
    summary = summarise(df, cls)
    ratios = sorted(summary["labeled"].unique())
    rows = ordered_rows(summary, method_order, list(labels or {}))
    labels = labels or {}
    dataset = df["dataset"].iloc[0]
    refs = refs if cls == "mean" else None
    best = {}
    for lab in ratios:
        col = summary[summary["labeled"] == lab]
        best[(lab, "dice")] = col["dice"].max()
        best[(lab, "hd95")] = col["hd95"].min()
    cols = []  # (labeled, metric, reported?) in column order
    for lab in ratios:
        for metric in ("dice", "hd95"):
            cols.append((lab, metric, False))
            if any(reference_for(refs, dataset, m, n, lab, metric) for m, _, n in rows):
                cols.append((lab, metric, True))
    has_ref = {(lab, metric) for lab, metric, rep in cols if rep}
    title = {"dice": "Dice ↑", "hd95": "HD95 ↓"}
    header = "| Method | " + " | ".join(
        f"{lab} labeled: {title[metric]}"
        + (" reported" if rep else " reproduced" if (lab, metric) in has_ref else "")
        for lab, metric, rep in cols) + " |"
    lines = [header, "|---|" + "---:|" * len(cols)]
    flat = []
    group = None
    for method, variant, network in rows:
        g = get_method(method).group
        if g != group:
            group = g
            lines.append(f"| *{GROUP_TITLE[g]}* |" + " |" * len(cols))
        name = row_label(method, network, variant if isinstance(variant, str) else None,
                         labels.get(variant) if isinstance(variant, str) else None)
        cells = []
        is_ours = (method, network) == (OURS[0], OURS[2]) and not isinstance(variant, str)
        for lab in ratios:
            hit = summary[(summary["method"] == method) & (summary["network"] == network)
                          & (summary["labeled"] == lab)
                          & (summary["variant"].isna() if not isinstance(variant, str) else summary["variant"] == variant)]
            reported = {m: reference_for(refs, dataset, method, network, lab, m) for m in ("dice", "hd95")}
            if hit.empty:
                cells += ["–" for c in cols if c[0] == lab]
                continue
            r = hit.iloc[0]
            mark = marks_for(tests, lab) if is_ours and cls == "mean" else ""
            text = {"dice": _fmt(100 * r["dice"], 100 * r["dice_std"], int(r["n"]), 2),
                    "hd95": _fmt(r["hd95"], r["hd95_std"], int(r["n"]), 2)}
            is_best = {"dice": r["dice"] == best[(lab, "dice")], "hd95": r["hd95"] == best[(lab, "hd95")]}
            for c_lab, metric, rep in cols:
                if c_lab != lab:
                    continue
                if rep:
                    cells.append(f"{reported[metric][0]:.2f}" if reported[metric] else "–")
                    continue
                cell = f"**{text[metric]}**" if is_best[metric] else text[metric]
                cells.append(cell + (mark if metric == "dice" else ""))
            sources = sorted({v[1] for v in reported.values() if v})
            flat.append({"row": name, "method": method, "variant": variant, "network": network,
                         "labeled": lab, "class": cls, "dice": r["dice"], "dice_std": r["dice_std"],
                         "hd95": r["hd95"], "hd95_std": r["hd95_std"], "n_seeds": int(r["n"]), "group": g,
                         "dice_best": bool(is_best["dice"]), "hd95_best": bool(is_best["hd95"]), "mark": mark,
                         "reported_dice": reported["dice"][0] if reported["dice"] else None,
                         "reported_hd95": reported["hd95"][0] if reported["hd95"] else None,
                         "reported_source": "; ".join(sources) or None})
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", footnote]
    return "\n".join(lines) + "\n", pd.DataFrame(flat)


def _n_text(df: pd.DataFrame) -> str:
    counts = sorted(summarise(df)["n"].unique())
    return str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"


def _values(df: pd.DataFrame, column: str, fallback) -> str:
    """The distinct values of ``column`` joined by '/' (``fallback`` when the column is absent)."""
    if column not in df or df[column].isna().all():
        return str(fallback)
    return "/".join(map(str, sorted(df[column].dropna().unique())))


SPLIT_TEXT = {"test": "test split", "val": "validation split",
              "val+test": "validation and test splits combined (CTCT's protocol)"}


def footnote_text(df: pd.DataFrame, config: dict) -> str:
    seeds = sorted(df["seed"].unique())
    pretrained = config.get("models", {}).get("swin_unet", {}).get("pretrained")
    mode = "/".join(sorted(df["mode"].unique()))
    split = _values(df, "split", config["evaluation"].get("split", "test"))
    mode_text = {"paper": "paper mode (SSL4MIS: HD95 in voxels, empty prediction scores Dice 0, HD95 0)",
                 "strict": "strict mode (HD95 in mm, max of directed 95th percentiles; missed structure = volume diagonal)"}
    return (
        f"Dataset: {config['dataset']['name']} ({SPLIT_TEXT.get(split, split)}, last-iteration "
        f"checkpoint, no checkpoint selection; "
        f"per-volume 3D metrics averaged over volumes then classes). Metrics: "
        f"{mode_text.get(mode, mode)}. Dice in %. Iterations: {_values(df, 'iterations', '?')} at "
        f"{_values(df, 'img_size', config['training']['img_size'])} px. Seeds: {', '.join(map(str, seeds))} "
        f"(seeds per cell: n = {_n_text(df)}, CSV column n_seeds; mean ± std over seeds where n > 1). "
        f"Swin-UNet encoder: "
        f"{'ImageNet Swin-T (' + str(pretrained) + ')' if pretrained else 'trained from scratch (no pretrained weights)'}."
    )


def full_footnote(df: pd.DataFrame, config: dict, tests: pd.DataFrame | None = None,
                  flat: pd.DataFrame | None = None) -> str:
    """Protocol footnote plus the significance tests and the sources of reported numbers."""
    parts = [footnote_text(df, config)]
    if tests is not None and not tests.empty:
        parts.append(tests_footnote(tests))
    if flat is not None and "reported_source" in flat and flat["reported_source"].notna().any():
        sources = sorted(set("; ".join(flat["reported_source"].dropna()).split("; ")))
        parts.append("Reported: numbers published elsewhere, from " + "; ".join(sources) + ".")
    return " ".join(parts)


def write_tables(df: pd.DataFrame, config: dict, out_md: str | Path, method_order: list[str],
                 title: str, labels: dict | None = None, tests: pd.DataFrame | None = None,
                 refs: pd.DataFrame | None = None) -> tuple[str, pd.DataFrame, str]:
    """Write the table with a per-class breakdown (.md), a flat .csv and a LaTeX .tex beside it.

    Returns (Markdown text, class-mean flat frame, footnote).
    """
    from advmim.report.latex import latex_table

    out_md = Path(out_md)
    md, flat = main_table(df, method_order, "", labels=labels, tests=tests, refs=refs)
    note = full_footnote(df, config, tests, flat)
    md = md.rstrip("\n") + f"\n\n_{note}_\n"
    parts = [f"# {title}\n", md]
    frames = [flat]
    for cls in config["dataset"]["class_names"]:
        cmd, cflat = main_table(df, method_order, "", cls=cls, labels=labels)
        parts += [f"\n## {cls}\n", cmd]
        frames.append(cflat)
    text = "\n".join(parts)
    write_text(out_md, text)
    write_text(out_md.with_suffix(".csv"), pd.concat(frames).to_csv(index=False))
    write_text(out_md.with_suffix(".tex"), latex_table(flat, title, note))
    return text, flat, note
