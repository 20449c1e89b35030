"""Result tables: methods x labeled ratios x (Dice, HD95), Markdown and CSV, with a footnote."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from advmim.io import write_text
from advmim.methods import get_method
from advmim.report.collect import row_label

GROUP_ORDER = ["lower", "semi", "ours", "upper"]
GROUP_TITLE = {"lower": "Supervised (labeled only)", "semi": "Semi-supervised",
               "ours": "Ours", "upper": "Fully supervised"}


def _fmt(mean: float, std: float, n: int, digits: int) -> str:
    if n > 1 and pd.notna(std):
        return f"{mean:.{digits}f} ± {std:.{digits}f}"
    return f"{mean:.{digits}f}"


def summarise(df: pd.DataFrame, cls: str = "mean") -> pd.DataFrame:
    """Mean, std and n over seeds per (row, labeled) for one class (or the class mean)."""
    sub = df[df["class"] == cls]
    keys = ["method", "variant", "network", "labeled"]
    agg = sub.groupby(keys, dropna=False).agg(
        dice=("dice", "mean"), dice_std=("dice", "std"),
        hd95=("hd95", "mean"), hd95_std=("hd95", "std"), n=("seed", "nunique"),
    )
    return agg.reset_index()


def ordered_rows(summary: pd.DataFrame, method_order: list[str]) -> list[tuple]:
    """(method, variant, network) in table order: group, then configured order, then network."""
    seen = []
    for method in method_order:
        for key in summary[summary["method"] == method][["method", "variant", "network"]].itertuples(index=False):
            if tuple(key) not in seen:
                seen.append(tuple(key))
    return sorted(seen, key=lambda k: (GROUP_ORDER.index(get_method(k[0]).group), method_order.index(k[0])))


def main_table(df: pd.DataFrame, method_order: list[str], footnote: str, cls: str = "mean",
               labels: dict | None = None) -> tuple[str, pd.DataFrame]:
    """Markdown (grouped, best per column in bold) and a flat CSV frame."""
    summary = summarise(df, cls)
    ratios = sorted(summary["labeled"].unique())
    rows = ordered_rows(summary, method_order)
    labels = labels or {}
    best = {}
    for lab in ratios:
        col = summary[summary["labeled"] == lab]
        best[(lab, "dice")] = col["dice"].max()
        best[(lab, "hd95")] = col["hd95"].min()
    header = "| Method | " + " | ".join(f"{lab} labeled: Dice ↑ | {lab} labeled: HD95 ↓" for lab in ratios) + " |"
    lines = [header, "|---|" + "---:|" * (2 * len(ratios))]
    flat = []
    group = None
    for method, variant, network in rows:
        g = get_method(method).group
        if g != group:
            group = g
            lines.append(f"| *{GROUP_TITLE[g]}* |" + " |" * (2 * len(ratios)))
        name = row_label(method, network, variant if isinstance(variant, str) else None,
                         labels.get(variant) if isinstance(variant, str) else None)
        cells = []
        for lab in ratios:
            hit = summary[(summary["method"] == method) & (summary["network"] == network)
                          & (summary["labeled"] == lab)
                          & (summary["variant"].isna() if not isinstance(variant, str) else summary["variant"] == variant)]
            if hit.empty:
                cells += ["–", "–"]
                continue
            r = hit.iloc[0]
            dice = _fmt(100 * r["dice"], 100 * r["dice_std"], int(r["n"]), 2)
            hd = _fmt(r["hd95"], r["hd95_std"], int(r["n"]), 2)
            if r["dice"] == best[(lab, "dice")]:
                dice = f"**{dice}**"
            if r["hd95"] == best[(lab, "hd95")]:
                hd = f"**{hd}**"
            cells += [dice, hd]
            flat.append({"row": name, "method": method, "variant": variant, "network": network,
                         "labeled": lab, "class": cls, "dice": r["dice"], "dice_std": r["dice_std"],
                         "hd95": r["hd95"], "hd95_std": r["hd95_std"], "n_seeds": int(r["n"])})
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", footnote]
    return "\n".join(lines) + "\n", pd.DataFrame(flat)


def footnote_text(df: pd.DataFrame, config: dict) -> str:
    seeds = sorted(df["seed"].unique())
    pretrained = config.get("models", {}).get("swin_unet", {}).get("pretrained")
    mode = "/".join(sorted(df["mode"].unique()))
    mode_text = {"paper": "paper mode (SSL4MIS: HD95 in voxels, empty prediction scores Dice 0, HD95 0)",
                 "strict": "strict mode (HD95 in mm, max of directed 95th percentiles; missed structure = volume diagonal)"}
    return (
        f"Dataset: {config['dataset']['name']} ({config['evaluation'].get('split', 'test')} split, "
        f"per-volume 3D metrics averaged over volumes then classes). Metrics: "
        f"{mode_text.get(mode, mode)}. Dice in %. Iterations: {config['training']['iterations']} at "
        f"{config['training']['img_size']} px. Seeds: {', '.join(map(str, seeds))} "
        f"(mean ± std over seeds where n > 1). Swin-UNet encoder: "
        f"{'ImageNet Swin-T (' + str(pretrained) + ')' if pretrained else 'trained from scratch (no pretrained weights)'}."
    )


def write_tables(df: pd.DataFrame, config: dict, out_md: str | Path, method_order: list[str],
                 title: str, labels: dict | None = None) -> str:
    """Write the main table with a per-class breakdown (.md) and a flat .csv beside it."""
    out_md = Path(out_md)
    note = footnote_text(df, config)
    md, flat = main_table(df, method_order, "_" + note + "_", labels=labels)
    parts = [f"# {title}\n", md]
    frames = [flat]
    for cls in config["dataset"]["class_names"]:
        cmd, cflat = main_table(df, method_order, "", cls=cls, labels=labels)
        parts += [f"\n## {cls}\n", cmd]
        frames.append(cflat)
    text = "\n".join(parts)
    write_text(out_md, text)
    write_text(out_md.with_suffix(".csv"), pd.concat(frames).to_csv(index=False))
    return text
