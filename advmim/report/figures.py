"""Figures (matplotlib, Agg): training curves, Dice vs labeled ratio, qualitative overlays.

Every figure is written as PNG and PDF, atomically. Qualitative cases follow a fixed rule
(:func:`select_cases`) so the choice is never made by eye.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from advmim.io import atomic_path, read_json  # noqa: E402
from advmim.report.collect import row_label  # noqa: E402
from advmim.report.stats import summarise  # noqa: E402

FORMATS = ("png", "pdf")
CLASS_COLOURS = ["#e41a1c", "#4daf4a", "#377eb8", "#ff7f00", "#984ea3", "#ffff33"]
ABLATION_PREFIX = "abl-"
# One colour and one marker per table row (hues far apart, no light/dark pairs of one hue); the
# bounds are drawn apart (lower: black dashed, upper: grey dotted).
ROW_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
               "#17becf", "#bcbd22", "#000080", "#e6ab02", "#1b9e77", "#a6761d", "#f781bf"]
ROW_MARKERS = "sD^v<>pPXh*8dH"  # "o" (hollow) marks the lower bound
QUALITATIVE_COLUMNS = 6  # panels per row of the qualitative grid


def save_figure(fig, out_base: str | Path) -> list[Path]:
    """Write ``out_base.png`` and ``out_base.pdf`` atomically; closes the figure."""
    out_base = Path(out_base)
    paths = []
    for fmt in FORMATS:
        path = out_base.with_name(f"{out_base.name}.{fmt}")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=120, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def run_name(settings: dict) -> str:
    """The workflow's run name: the method, or ``abl-<variant>`` for an ablation entry."""
    return ABLATION_PREFIX + settings["variant"] if settings.get("variant") else settings["method"]


def read_runs(run_dirs: Iterable[str | Path]) -> list[dict]:
    """Run folders (or their model.pt) -> ``{"dir", "name", **config.json}`` sorted by name/labeled/seed."""
    runs = []
    for path in run_dirs:
        path = Path(path)
        run_dir = path.parent if path.is_file() else path
        settings = read_json(run_dir / "config.json")
        runs.append({**settings, "dir": run_dir, "name": run_name(settings)})
    return sorted(runs, key=lambda r: (r["name"], r["labeled"], r["seed"]))


def read_log(path: str | Path) -> dict[str, np.ndarray]:
    """train_log.csv as {column: float array}."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cols = rows[0].keys() if rows else []
    return {c: np.array([float(r[c]) if r[c] not in ("", None) else np.nan for r in rows]) for c in cols}


def read_curves(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{term: (iterations, values)}`` of a run's train_log.csv and, when present, its
    val_log.csv (validation Dice of ``evaluation.checkpoint: best_val``, as ``val dice_<net>``)."""
    curves = {}
    for name, prefix in (("train_log.csv", ""), ("val_log.csv", "val ")):
        if (run_dir / name).is_file() or not prefix:
            log = read_log(run_dir / name)
            curves.update({prefix + c: (log["iteration"], v) for c, v in log.items() if c != "iteration"})
    return curves


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving mean over ``window`` logged values (missing values skipped)."""
    return pd.Series(values).rolling(window, min_periods=1).mean().to_numpy()


def training_curves(runs: list[dict], out_dir: str | Path) -> list[Path]:
    """One grid per run name: a panel per logged term (loss terms, then LR), a colour per
    labeled/seed; each loss smoothed (moving mean over a twentieth of the run) over its raw
    values drawn faint; the legend below the panels."""
    out_dir = Path(out_dir)
    written = []
    for name in dict.fromkeys(r["name"] for r in runs):
        group = [r for r in runs if r["name"] == name]
        logs = [(r, read_curves(r["dir"])) for r in group]
        terms = list(dict.fromkeys(c for _, log in logs for c in log if c != "lr"))
        terms.append("lr")
        ncols = min(4, len(terms))
        nrows = -(-len(terms) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.5 * nrows), squeeze=False)
        window = max(1, max(len(log["lr"][0]) for _, log in logs) // 20)
        for ax, term in zip(axes.flat, terms, strict=False):
            for k, (r, log) in enumerate(logs):
                if term not in log:
                    continue
                colour = ROW_COLOURS[k % len(ROW_COLOURS)]
                label = f"{r['labeled']} labeled, seed {r['seed']}"
                x, y = log[term]
                if term == "lr" or term.startswith("val "):  # val Dice: a point per validation
                    ax.plot(x, y, lw=1.2, color=colour, label=label, marker="." if term != "lr" else None)
                    continue
                ax.plot(x, y, lw=0.6, alpha=0.25, color=colour)
                ax.plot(x, smooth(y, window), lw=1.4, color=colour, label=label)
            ax.set_title(term, fontsize=9)
            ax.set_xlabel("iteration", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[len(terms):]:
            ax.axis("off")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        note = f" (moving mean of {window} logged values; raw values faint)" if window > 1 else ""
        fig.suptitle(f"Training curves — {name}{note}", fontsize=10)
        fig.tight_layout()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), fontsize=8,
                   ncols=min(6, len(labels)), frameon=False)
        written += save_figure(fig, out_dir / f"curves_{name}")
    return written


def _row_mask(frame: pd.DataFrame, method: str, variant: str | None, network: str) -> pd.Series:
    """Rows of ``frame`` (a summary or the per-run frame) that belong to one table row."""
    same_variant = frame["variant"].isna() if variant is None else frame["variant"] == variant
    return (frame["method"] == method) & (frame["network"] == network) & same_variant


def _row_frame(summary: pd.DataFrame, method: str, variant: str | None, network: str) -> pd.DataFrame:
    return summary[_row_mask(summary, method, variant, network)].sort_values("labeled")


def dice_vs_labeled(df: pd.DataFrame, out_base: str | Path, order: list[str] | None = None) -> list[Path]:
    """Write :func:`dice_figure` as ``out_base``.png / .pdf."""
    return save_figure(dice_figure(df, order), out_base)


def dice_figure(df: pd.DataFrame, order: list[str] | None = None):
    """Mean Dice (%) vs labeled patients, a line per table row in table order (``order``: the
    configured methods); error bars = std over seeds (none if n = 1). The labeled-only U-Net
    (lower bound) is black and dashed, the all-labels row (upper bound) grey and dotted; every
    other row has its own colour and marker (ours thicker). The legend sits outside the axes."""
    from advmim.methods import method_card
    from advmim.report.model import ordered_rows

    summary = summarise(df)
    order = order or list(dict.fromkeys(summary["method"]))
    if summary["labeled"].nunique() == 1:  # one labeled count: a line per row would be one point
        return seed_figure(df, summary, order)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    i, handles = 0, []  # in drawing order (matplotlib would list lines before error bars)
    for method, variant, network in ordered_rows(summary, [m for m in order if m in set(summary["method"])]):
        grp = _row_frame(summary, method, variant, network)
        label, group = row_label(method, network, variant), method_card(method).group
        mean, std = 100 * grp["dice"], 100 * grp["dice_std"].fillna(0)
        if group == "upper" and len(grp) == 1:
            handles.append(ax.axhline(mean.iloc[0], color="0.45", ls=":", lw=1.5, label=f"{label} — upper bound"))
            continue
        if group == "lower":
            style = {"color": "black", "ls": "--", "marker": "o", "mfc": "white"}
            label += " — lower bound"
        elif group == "upper":
            style = {"color": "0.45", "ls": ":", "marker": "s"}
            label += " — upper bound"
        else:
            style = {"color": ROW_COLOURS[i % len(ROW_COLOURS)], "marker": ROW_MARKERS[i % len(ROW_MARKERS)]}
            style["lw"] = 2.5 if group == "ours" else 1.5
            i += 1
        handles.append(ax.errorbar(grp["labeled"], mean, yerr=std, capsize=3, ms=6, label=label,
                                   **{"lw": 1.5, **style}))
    ax.set_xlabel("labeled patients")
    ax.set_ylabel("Dice (%), mean over classes")
    ax.set_xticks(sorted(summary["labeled"].unique()))
    ax.grid(alpha=0.3)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.set_title("Dice vs labeled data (error bars: std over seeds)", fontsize=10)
    fig.tight_layout()
    return fig


def seed_figure(df: pd.DataFrame, summary: pd.DataFrame, order: list[str]):
    """One labeled count: a row per table row (table order, top to bottom), each seed's mean Dice
    a dot, the mean over seeds a bar; the lower bound's mean a dashed line (the upper bound's a
    dotted one) across all rows, so every row reads against both."""
    from advmim.methods import method_card
    from advmim.report.model import ordered_rows

    rows = ordered_rows(summary, [m for m in order if m in set(summary["method"])])
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.4))
    bounds_drawn = set()
    for y, (method, variant, network) in enumerate(rows):
        runs = df[_row_mask(df, method, variant, network) & (df["class"] == "mean")]
        dice = 100 * runs["dice"].to_numpy(dtype=float)
        group = method_card(method).group
        colour = {"lower": "black", "upper": "0.45"}.get(group, ROW_COLOURS[y % len(ROW_COLOURS)])
        ax.scatter(dice, np.full(len(dice), y), s=28, color=colour, alpha=0.8, zorder=3)
        ax.plot([dice.mean()] * 2, [y - 0.3, y + 0.3], color=colour, lw=2.5)
        if group in ("lower", "upper") and group not in bounds_drawn:
            bounds_drawn.add(group)
            ax.axvline(dice.mean(), color=colour, lw=1, ls="--" if group == "lower" else ":")
    ax.set_yticks(range(len(rows)), [row_label(m, n, v) for m, v, n in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Dice (%), mean over classes")
    ax.grid(alpha=0.3, axis="x")
    labeled = int(summary["labeled"].iloc[0])
    ax.set_title(f"{labeled} labeled: Dice per seed (dots) and mean over seeds (bar); "
                 "lines: the first lower / upper bound's mean", fontsize=9)
    fig.tight_layout()
    return fig


def ours_row(volumes: pd.DataFrame) -> tuple | None:
    """(method, None, first reported network) of the first method whose card's group is 'ours'."""
    from advmim.methods import method_card

    for method in dict.fromkeys(volumes["method"]):
        card = method_card(method)
        if card.group == "ours":
            return (method, None, next(iter(card.reported)))
    return None


def select_cases(volumes: pd.DataFrame, ours: tuple | None = None) -> tuple[str, int, int, list[tuple[str, str]]]:
    """The qualitative rule: (reference row, labeled, seed, [(role, case), ...]).

    Reference row: ``ours`` (default: :func:`ours_row`, AdvMIM (S)) if present, else the row with
    the highest mean Dice.
    Take its smallest labeled ratio and lowest seed; among that run's test volumes (per-volume Dice
    averaged over classes, ties broken by case name) show the median volume (lower median for an
    even count) and the worst volume (skipped when it is the median one).
    """
    method, variant, network = ours or ours_row(volumes) or (None, None, None)
    sel = volumes[(volumes["method"] == method) & (volumes["network"] == network) & volumes["variant"].isna()]
    if sel.empty:
        method, network = volumes.groupby(["method", "network"])["dice"].mean().idxmax()
        sel = volumes[(volumes["method"] == method) & (volumes["network"] == network)]
    labeled = int(sel["labeled"].min())
    seed = int(sel[sel["labeled"] == labeled]["seed"].min())
    run = sel[(sel["labeled"] == labeled) & (sel["seed"] == seed)].sort_values(["dice", "case"])
    median = run.iloc[(len(run) - 1) // 2]["case"]
    chosen = [("median", median)]
    if run.iloc[0]["case"] != median:
        chosen.append(("worst", run.iloc[0]["case"]))
    return row_label(method, network), labeled, seed, chosen


def largest_label_slice(label: np.ndarray) -> int:
    """Index of the slice with the largest foreground area (first one on ties)."""
    return int(np.argmax((label > 0).reshape(label.shape[0], -1).sum(axis=1)))


def _overlay(ax, image: np.ndarray, label: np.ndarray | None, num_classes: int) -> None:
    from matplotlib.colors import ListedColormap

    ax.imshow(image, cmap="gray", interpolation="nearest")
    if label is not None:
        cmap = ListedColormap(CLASS_COLOURS[: num_classes - 1])
        ax.imshow(np.ma.masked_equal(label, 0), cmap=cmap, vmin=1, vmax=max(num_classes - 1, 1),
                  alpha=0.5, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def qualitative(volumes: pd.DataFrame, runs: list[dict], data_dir: str | Path, out_base: str | Path,
                order: list[str] | None = None, device=None) -> list[Path]:
    """Image, ground truth and each run's prediction (reported networks) on the :func:`select_cases` slices.

    Predictions follow the table: group (lower, semi, ours, upper), then ``order`` (methods); each
    case's panels wrap into a grid of QUALITATIVE_COLUMNS per row.
    """
    import torch

    from advmim.data.slices import load_volume
    from advmim.inference import load_networks, predict_volume
    from advmim.methods import method_card
    from advmim.report.layout import GROUP_ORDER

    device = device or torch.device("cpu")
    order = order or []
    reference, labeled, seed, cases = select_cases(volumes)
    chosen = [r for r in runs if r["labeled"] == labeled and r["seed"] == seed and not r.get("variant")]
    chosen.sort(key=lambda r: (GROUP_ORDER.index(method_card(r["method"]).group),
                               order.index(r["method"]) if r["method"] in order else len(order)))
    columns = []  # (title, method, network, net, img_size)
    for r in chosen:
        settings, nets = load_networks(r["dir"] / "model.pt", device)
        for key, net in nets.items():
            columns.append((row_label(r["method"], key), r["method"], key, net, settings["img_size"]))
    info = read_json(Path(data_dir) / "dataset.json")
    num_classes = int(info["num_classes"])
    panels = 2 + len(columns)  # image, ground truth, one prediction per reported network
    ncols = min(QUALITATIVE_COLUMNS, panels)
    rows_per_case = -(-panels // ncols)
    nrows = len(cases) * rows_per_case
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.2 * ncols, 2.4 * nrows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (role, case) in enumerate(cases):
        image, label, _ = load_volume(data_dir, case)
        k = largest_label_slice(label)
        cells = [axes[i * rows_per_case + p // ncols, p % ncols] for p in range(panels)]
        for ax, title in zip(cells, ["image", "ground truth", *(c[0] for c in columns)], strict=True):
            ax.axis("on")
            ax.set_title(title, fontsize=8)
        _overlay(cells[0], image[k], None, num_classes)
        cells[0].set_ylabel(f"{role}\n{case}\nslice {k}", fontsize=7)
        _overlay(cells[1], image[k], label[k], num_classes)
        for ax, (_title, method, network, net, img_size) in zip(cells[2:], columns, strict=True):
            pred = predict_volume(net, image[k : k + 1], img_size, device)[0]
            _overlay(ax, image[k], pred, num_classes)
            hit = volumes[(volumes["method"] == method) & (volumes["network"] == network)
                          & volumes["variant"].isna() & (volumes["labeled"] == labeled)
                          & (volumes["seed"] == seed) & (volumes["case"] == case)]
            if not hit.empty:
                ax.text(0.03, 0.03, f"3D Dice {100 * hit['dice'].iloc[0]:.1f}%", fontsize=7,
                        color="white", transform=ax.transAxes,
                        bbox={"facecolor": "black", "alpha": 0.6, "pad": 1, "lw": 0})
    fig.suptitle(f"Qualitative: {labeled} labeled, seed {seed} — median and worst test volume of "
                 f"{reference}; slice with the largest ground-truth area", fontsize=9)
    fig.tight_layout()
    from matplotlib.patches import Patch

    names = info.get("class_names") or [f"class {c}" for c in range(1, num_classes)]
    fig.legend([Patch(color=CLASS_COLOURS[c], alpha=0.6) for c in range(num_classes - 1)], names,
               loc="upper center", bbox_to_anchor=(0.5, 0.0), ncols=num_classes - 1, fontsize=8,
               frameon=False)
    return save_figure(fig, out_base)
