"""A flat metrics summary (JSON) for experiment tracking (``dvc metrics show / diff``).

One entry per (method, network, labeled): the mean over seeds of the per-run class-mean Dice and
HD95, their std over seeds (null for one seed) and the number of seeds. The nesting is
``results -> method[:variant] -> network -> L<labeled> -> {dice, hd95, dice_std, hd95_std, n_seeds}``
so that DVC's flattened keys read ``results.advmim.S.L3.dice``.

Plain Python on purpose (no torch/pandas import): the workflow runs it after every evaluation.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from pathlib import Path

from advmim.io import read_json, write_json

DIGITS = 6


def read_metrics(path: str | Path) -> dict:
    """One metrics JSON written by ``advmim evaluate``, validated
    (:func:`advmim.report.validate.file_problems`); a bad file is refused, naming it."""
    from advmim.errors import InputError
    from advmim.report.validate import MAX_LINES_PER_FILE, file_problems

    result = read_json(path)
    problems = file_problems(result)
    if problems:
        raise InputError(path, "; ".join(problems[:MAX_LINES_PER_FILE]))
    return result


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    mean = round(statistics.fmean(values), DIGITS)
    std = round(statistics.stdev(values), DIGITS) if len(values) > 1 else None
    return mean, std


def summarize(results: Iterable[dict]) -> dict:
    """The summary of per-run metrics dicts (the metrics JSON format of docs/architecture.md):
    every table metric (:mod:`advmim.report.metric_defs`) the runs' means carry."""
    from advmim.report.metric_defs import METRICS

    groups: dict[tuple, dict[str, list]] = {}
    datasets, modes, iterations = set(), set(), set()
    for res in results:
        datasets.add(res["dataset"])
        modes.add(res["mode"])
        iterations.add(int(res["iterations"]))
        name = f"{res['method']}:{res['variant']}" if res.get("variant") else res["method"]
        for network, net in res["networks"].items():
            key = (name, network, int(res["labeled"]))
            g = groups.setdefault(key, {"seeds": set()})
            for metric in METRICS:
                value = net["mean"].get(metric, {}).get("mean")
                if value is not None:
                    g.setdefault(metric, []).append(float(value))
            g["seeds"].add(int(res["seed"]))
    table: dict = {}
    for (name, network, labeled), g in sorted(groups.items()):
        entry = {}
        for metric in (m for m in METRICS if m in g):
            entry[metric], entry[f"{metric}_std"] = _mean_std(g[metric])
        entry["n_seeds"] = len(g["seeds"])
        table.setdefault(name, {}).setdefault(network, {})[f"L{labeled}"] = entry
    out: dict = {}
    if datasets:
        out["dataset"] = "/".join(sorted(datasets))
        out["mode"] = "/".join(sorted(modes))
        out["iterations"] = max(iterations)
    out["results"] = table
    return out


def write_summary(metric_files: Iterable[str | Path], out: str | Path) -> dict:
    """Summarise per-run metrics JSON files into ``out`` (written atomically); return the dict."""
    from advmim.report.validate import load_metrics

    summary = summarize(load_metrics(metric_files).values())
    write_json(out, summary)
    return summary


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def downsample(rows: list[dict], max_points: int) -> list[dict]:
    """At most ``max_points`` rows: consecutive bins, numeric columns averaged, ``iteration`` = last.

    Bins are equal-sized, so curves of runs with the same length stay comparable point by point.
    """
    if max_points < 1:
        raise ValueError("max_points must be >= 1")
    if len(rows) <= max_points:
        return rows
    size = -(-len(rows) // max_points)  # ceil
    out = []
    for start in range(0, len(rows), size):
        chunk = rows[start:start + size]
        merged = {}
        for key in chunk[-1]:
            if key == "iteration":
                merged[key] = chunk[-1][key]
                continue
            values = [v for v in (_float(r.get(key)) for r in chunk) if v is not None]
            merged[key] = repr(round(statistics.fmean(values), 8)) if values else chunk[-1][key]
        out.append(merged)
    return out


def curve_name(run_dir: str | Path) -> str:
    """``<run>_L<labeled>_seed<seed>.csv`` from ``.../<run>/L<labeled>/seed<seed>``."""
    parts = Path(run_dir).parts[-3:]
    return "_".join(parts) + ".csv"


def write_curves(runs: Iterable[str | Path], out_dir: str | Path, max_points: int = 500) -> list[Path]:
    """Copy each run's ``train_log.csv`` (down-sampled) into ``out_dir`` for ``dvc plots``.

    ``runs`` are run folders or their ``model.pt`` files. Returns the written files.
    """
    import csv
    import io

    from advmim.errors import InputError
    from advmim.io import write_text

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for run in runs:
        run = Path(run)
        run_dir = run.parent if run.suffix == ".pt" else run
        log = run_dir / "train_log.csv"
        if not log.exists():
            raise InputError(log, "file not found (training log of the run)")
        with open(log, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(downsample(rows, max_points))
        target = out_dir / curve_name(run_dir)
        write_text(target, buf.getvalue())
        written.append(target)
    return written
