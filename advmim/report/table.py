"""Result tables: methods x labeled ratios x (Dice, HD95), Markdown and CSV, with a footnote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advmim.io import write_text
from advmim.methods import method_card
from advmim.report.collect import row_label
from advmim.report.layout import (
    GROUP_ORDER,
    GROUP_TITLE,
    METRIC_TITLE,
    column_layout,
    published_key,
    published_sources,
)
from advmim.report.references import reference_for, sources
from advmim.report.stats import OURS, marks_for, summarise, tests_footnote


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
    return sorted(seen, key=lambda k: (GROUP_ORDER.index(method_card(k[0]).group), method_order.index(k[0]),
                                       variants.index(k[1]) if k[1] in variants else -1))


def source_label(source: tuple[str, str]) -> str:
    """``source`` or ``source (protocol)`` of a (source, protocol) pair."""
    return f"{source[0]} ({source[1]})" if source[1] else source[0]


def main_table(df: pd.DataFrame, method_order: list[str], footnote: str, cls: str = "mean",
               labels: dict | None = None, tests: pd.DataFrame | None = None,
               refs: pd.DataFrame | None = None) -> tuple[str, pd.DataFrame]:
    """Markdown (grouped, best per column in bold) and a flat CSV frame.

    ``tests`` (:func:`advmim.report.stats.compare_with_best_baseline`) adds dagger marks to the
    AdvMIM (S) Dice cells; ``refs`` (:func:`advmim.report.references.load_references`) adds, next
    to each metric of ours, one "published [k]" column per source that has a value
    (class mean only; flat columns ``published_<k>_dice|hd95|source``). Never averaged.
    """
    summary = summarise(df, cls)
    ratios = sorted(summary["labeled"].unique())
    rows = ordered_rows(summary, method_order, list(labels or {}))
    labels = labels or {}
    dataset = df["dataset"].iloc[0]
    srcs = sources(refs, dataset) if cls == "mean" else []
    best = {}
    for lab in ratios:
        col = summary[summary["labeled"] == lab]
        best[(lab, "dice")] = col["dice"].max()
        best[(lab, "hd95")] = col["hd95"].min()
    flat = []
    for method, variant, network in rows:
        g = method_card(method).group
        name = row_label(method, network, variant if isinstance(variant, str) else None,
                         labels.get(variant) if isinstance(variant, str) else None)
        is_ours = (method, network) == (OURS[0], OURS[2]) and not isinstance(variant, str)
        for lab in ratios:
            hit = summary[(summary["method"] == method) & (summary["network"] == network)
                          & (summary["labeled"] == lab)
                          & (summary["variant"].isna() if not isinstance(variant, str) else summary["variant"] == variant)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            published = {}
            for k, source in enumerate(srcs, start=1):
                values = {m: reference_for(refs, dataset, method, network, lab, m, source[0])
                          for m in METRIC_TITLE}
                published.update({f"published_{k}_{m}": v for m, v in values.items()})
                has = any(v is not None for v in values.values())
                published[f"published_{k}_source"] = source_label(source) if has else None
            flat.append({"row": name, "method": method, "variant": variant, "network": network,
                         "labeled": lab, "class": cls, "dice": r["dice"], "dice_std": r["dice_std"],
                         "hd95": r["hd95"], "hd95_std": r["hd95_std"], "n_seeds": int(r["n"]), "group": g,
                         "dice_best": bool(r["dice"] == best[(lab, "dice")]),
                         "hd95_best": bool(r["hd95"] == best[(lab, "hd95")]),
                         "mark": marks_for(tests, lab) if is_ours and cls == "mean" else "", **published})
    flat = pd.DataFrame(flat)
    layout = {lab: column_layout(flat, lab) for lab in ratios} if not flat.empty else {}
    has_pub = {(lab, m) for lab in layout for m, c in layout[lab] if c}
    header = "| Method | " + " | ".join(
        f"{lab} labeled: {METRIC_TITLE[m]}"
        + (f" published [{published_key(c)}]" if c else " ours" if (lab, m) in has_pub else "")
        for lab in ratios for m, c in layout.get(lab, [])) + " |"
    ncols = sum(len(v) for v in layout.values())
    lines = [header, "|---|" + "---:|" * ncols]
    group = None
    for name in dict.fromkeys(flat["row"]) if not flat.empty else []:
        mine = flat[flat["row"] == name]
        g = mine["group"].iloc[0]
        if g != group:
            group = g
            lines.append(f"| *{GROUP_TITLE[g]}* |" + " |" * ncols)
        cells = []
        for lab in ratios:
            hit = mine[mine["labeled"] == lab]
            if hit.empty:
                cells += ["–"] * len(layout[lab])
                continue
            r = hit.iloc[0]
            for metric, col in layout[lab]:
                if col:
                    cells.append(f"{r[col]:.2f}" if pd.notna(r[col]) else "–")
                    continue
                scale = 100 if metric == "dice" else 1
                text = _fmt(scale * r[metric], scale * r[f"{metric}_std"], int(r["n_seeds"]), 2)
                cell = f"**{text}**" if r[f"{metric}_best"] else text
                cells.append(cell + (r["mark"] if metric == "dice" else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", footnote]
    return "\n".join(lines) + "\n", flat


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
        f"{mode_text.get(mode, mode)}. Dice in %. Iterations: {_values(df, 'iterations', '?')} at "
        f"{_values(df, 'img_size', config['training']['img_size'])} px. Seeds: {', '.join(map(str, seeds))} "
        f"(seeds per cell: n = {_n_text(df)}, CSV column n_seeds; mean ± std over seeds where n > 1). "
        f"Swin-UNet encoder: "
        f"{_pretrained_text(pretrained)}."
    )


def full_footnote(df: pd.DataFrame, config: dict, tests: pd.DataFrame | None = None,
                  flat: pd.DataFrame | None = None) -> str:
    """Protocol footnote plus the significance tests and the sources of published numbers."""
    parts = [footnote_text(df, config)]
    if tests is not None and not tests.empty:
        parts.append(tests_footnote(tests))
    published = published_sources(flat) if flat is not None else {}
    if published:
        parts.append(
            "Published: numbers as their source reports them, one column per source, never "
            "averaged together; their protocols differ from ours (the last iteration's weights): " + "; ".join(f"[{k}] {label}" for k, label in published.items()) + "."
        )
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
