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
from advmim.report.stats import OURS, summarise  # noqa: E402

FORMATS = ("png", "pdf")
CLASS_COLOURS = ["#e41a1c", "#4daf4a", "#377eb8", "#ff7f00", "#984ea3", "#ffff33"]
ABLATION_PREFIX = "abl-"


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


def training_curves(runs: list[dict], out_dir: str | Path) -> list[Path]:
    """One grid per run name: a panel per logged term (loss terms, then LR), a line per labeled/seed."""
    out_dir = Path(out_dir)
    written = []
    for name in dict.fromkeys(r["name"] for r in runs):
        group = [r for r in runs if r["name"] == name]
        logs = [(r, read_curves(r["dir"])) for r in group]
        terms = list(dict.fromkeys(c for _, log in logs for c in log if c != "lr"))
        terms.append("lr")
        ncols = min(4, len(terms))
        nrows = -(-len(terms) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.6 * nrows), squeeze=False)
        for ax, term in zip(axes.flat, terms, strict=False):
            for r, log in logs:
                if term in log:
                    ax.plot(*log[term], lw=1, label=f"L{r['labeled']} s{r['seed']}")
            ax.set_title(term, fontsize=9)
            ax.set_xlabel("iteration", fontsize=8)
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[len(terms):]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=7)
        fig.suptitle(f"Training curves — {name}", fontsize=11)
        fig.tight_layout()
        written += save_figure(fig, out_dir / f"curves_{name}")
    return written


def dice_vs_labeled(df: pd.DataFrame, out_base: str | Path) -> list[Path]:
    """Mean Dice (%) vs labeled patients per table row; error bars = std over seeds (none if n = 1)."""
    summary = summarise(df)
    fig, ax = plt.subplots(figsize=(6, 4))
    rows = summary.groupby(["method", "variant", "network"], dropna=False, sort=False)
    colours = plt.get_cmap("tab20").colors  # 20 distinct colours; markers tell repeats apart
    for i, ((method, variant, network), grp) in enumerate(rows):
        grp = grp.sort_values("labeled")
        label = row_label(method, network, variant if isinstance(variant, str) else None)
        ax.errorbar(grp["labeled"], 100 * grp["dice"], yerr=100 * grp["dice_std"].fillna(0),
                    marker="osD^v<>"[i // len(colours) % 7], color=colours[i % len(colours)],
                    capsize=3, label=label)
    ax.set_xlabel("labeled patients")
    ax.set_ylabel("Dice (%), mean over classes")
    ax.set_xticks(sorted(summary["labeled"].unique()))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Dice vs labeled data (error bars: std over seeds)")
    fig.tight_layout()
    return save_figure(fig, out_base)


def select_cases(volumes: pd.DataFrame, ours: tuple = OURS) -> tuple[str, int, int, list[tuple[str, str]]]:
    """The qualitative rule: (reference row, labeled, seed, [(role, case), ...]).

    Reference row: ``ours`` (AdvMIM (S)) if present, else the row with the highest mean Dice.
    Take its smallest labeled ratio and lowest seed; among that run's test volumes (per-volume Dice
    averaged over classes, ties broken by case name) show the median volume (lower median for an
    even count) and the worst volume (skipped when it is the median one).
    """
    method, variant, network = ours
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

    Prediction columns follow the table: group (lower, semi, ours, upper), then ``order`` (methods).
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
    num_classes = int(read_json(Path(data_dir) / "dataset.json")["num_classes"])
    ncols = 2 + len(columns)
    fig, axes = plt.subplots(len(cases), ncols, figsize=(2.2 * ncols, 2.4 * len(cases)), squeeze=False)
    for i, (role, case) in enumerate(cases):
        image, label, _ = load_volume(data_dir, case)
        k = largest_label_slice(label)
        _overlay(axes[i, 0], image[k], None, num_classes)
        axes[i, 0].set_ylabel(f"{role}\n{case}\nslice {k}", fontsize=7)
        _overlay(axes[i, 1], image[k], label[k], num_classes)
        for j, (_title, method, network, net, img_size) in enumerate(columns, start=2):
            pred = predict_volume(net, image[k : k + 1], img_size, device)[0]
            _overlay(axes[i, j], image[k], pred, num_classes)
            hit = volumes[(volumes["method"] == method) & (volumes["network"] == network)
                          & volumes["variant"].isna() & (volumes["labeled"] == labeled)
                          & (volumes["seed"] == seed) & (volumes["case"] == case)]
            if not hit.empty:
                axes[i, j].text(0.03, 0.03, f"3D Dice {100 * hit['dice'].iloc[0]:.1f}%", fontsize=7,
                                color="white", transform=axes[i, j].transAxes,
                                bbox={"facecolor": "black", "alpha": 0.6, "pad": 1, "lw": 0})
        for j, title in enumerate(["image", "ground truth", *(c[0] for c in columns)]):
            if i == 0:
                axes[0, j].set_title(title, fontsize=8)
    fig.suptitle(f"Qualitative: {labeled} labeled, seed {seed} — median and worst test volume of "
                 f"{reference}; slice with the largest ground-truth area", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, out_base)
