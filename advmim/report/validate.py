"""The one validator of metrics files (``advmim evaluate`` output): each file alone, then the set
a table combines. Every problem is one line naming the file; all are reported together, before
any table is written (exit 2).

Each file: the keys of docs/architecture.md with their types (``labeled`` >= 1, ``seed`` an
integer >= 0, ``mode`` paper/strict, ``iterations`` >= 1), at least one volume per network, every
metric value finite and in its range (:mod:`advmim.report.metric_defs`; ``null`` only where strict
mode excludes an empty ground truth), no volume twice, and the stored means equal to the means of
the per-volume values. The set: one dataset, metric mode, split and class list (and the
configured ones when given), the same volumes in every file, one setting per table cell
(iterations, image size, pretrained weights) and no seed twice in a cell.

Plain Python (no pandas): ``advmim summarize`` runs after every evaluation.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

from advmim.errors import AdvmimError
from advmim.report.metric_defs import METRICS, MODES, required_metrics

REQUIRED_KEYS = ("dataset", "method", "labeled", "seed", "mode", "iterations", "classes", "networks")
STATUSES = {"ok", "missed", "empty_gt", "both_empty"}
MAX_LINES_PER_FILE = 6
CELL_SETTINGS = ("iterations", "img_size", "pretrained")


class MetricsProblems(AdvmimError):
    """Metrics files that cannot be combined into a table: one line per problem."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        super().__init__(f"{len(lines)} problem(s) in the metrics files, no table written:\n"
                         + "\n".join(lines))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _header_problems(result: dict) -> list[str]:
    from advmim.errors import ConfigError
    from advmim.methods import method_card

    out = []
    missing = [k for k in REQUIRED_KEYS if k not in result]
    if missing:
        return [f"not a metrics file of `advmim evaluate`: missing key(s) {', '.join(missing)}"]
    if not isinstance(result["dataset"], str) or not result["dataset"]:
        out.append(f"dataset must be a name, got {result['dataset']!r}")
    try:
        method_card(result["method"])
    except (ConfigError, TypeError) as exc:
        out.append(f"method: {exc}")
    if result.get("variant") is not None and not isinstance(result["variant"], str):
        out.append(f"variant must be a name or null, got {result['variant']!r}")
    for key, low in (("labeled", 1), ("seed", 0), ("iterations", 1)):
        if not _is_int(result[key]) or result[key] < low:
            out.append(f"{key} must be an integer >= {low}, got {result[key]!r}")
    if result["mode"] not in MODES:
        out.append(f"mode must be one of {', '.join(MODES)}, got {result['mode']!r}")
    classes = result["classes"]
    if (not isinstance(classes, list) or not classes or len(set(map(str, classes))) != len(classes)
            or not all(isinstance(c, str) and c for c in classes)):
        out.append(f"classes must be a list of distinct class names, got {classes!r}")
    if not isinstance(result["networks"], dict) or not result["networks"]:
        out.append("'networks' holds no network")
    return out


def _value_problem(metric, value, strict: bool) -> str | None:
    if value is None:
        return None if strict else "null (only strict mode excludes a value)"
    if not _is_number(value) or not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if not metric.in_range(value):
        return f"{value!r} is outside [{metric.low}, {metric.high}]"
    return None


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return math.fsum(values) / len(values) if values else None


def _network_problems(name: str, net, classes: list[str], strict: bool) -> list[str]:
    where = f"networks/{name}"
    if not isinstance(net, dict) or not isinstance(net.get("per_volume"), list):
        return [f"{where}: no per_volume list"]
    volumes = net["per_volume"]
    if not volumes:
        return [f"{where}: per_volume is empty (no volume evaluated)"]
    out = []
    cases = Counter(v.get("case") if isinstance(v, dict) else None for v in volumes)
    out += [f"{where}: case {c!r} listed {k} times" for c, k in cases.items() if k > 1 and c is not None]
    metrics = [m for m in METRICS.values() if not m.optional or any(
        isinstance(v, dict) and m.key in v for v in volumes)]
    for i, vol in enumerate(volumes):
        if not isinstance(vol, dict) or not isinstance(vol.get("case"), str):
            out.append(f"{where}/per_volume[{i}]: no case name")
            continue
        status = vol.get("status", {})
        if not isinstance(status, dict) or not set(status.values()) <= STATUSES:
            out.append(f"{where}/{vol['case']}: status must map classes to one of {sorted(STATUSES)}")
        for metric in metrics:
            values = vol.get(metric.key)
            if not isinstance(values, dict) or set(values) != set(classes):
                out.append(f"{where}/{vol['case']}: {metric.key} must give a value for each of "
                           f"{', '.join(classes)}")
                continue
            for cls in classes:
                why = _value_problem(metric, values[cls], strict)
                if why:
                    out.append(f"{where}/{vol['case']}: {metric.key} of {cls} {why}")
    if out:
        return out
    mean = net.get("mean")
    for metric in required_metrics():
        if not isinstance(mean, dict) or not isinstance(mean.get(metric.key), dict):
            out.append(f"{where}: mean lacks {metric.key}")
    for key in set(mean or {}) & {m.key for m in metrics}:
        stored = mean[key]
        per_class = {c: _mean([v[key][c] for v in volumes]) for c in classes}
        expected = {**per_class, "mean": _mean(list(per_class.values()))}
        for cls, value in expected.items():
            got = stored.get(cls) if isinstance(stored, dict) else None
            same = (got is None and value is None) or (
                _is_number(got) and value is not None and math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-6))
            if not same:
                out.append(f"{where}: mean {key} of {cls} is {got!r} but its per-volume values "
                           f"average {value!r}")
    return out


def file_problems(result) -> list[str]:
    """Problems of one metrics file (without the file name)."""
    if not isinstance(result, dict):
        return [f"not a metrics file of `advmim evaluate` (expected a JSON object, got "
                f"{type(result).__name__})"]
    out = _header_problems(result)
    if out:
        return out
    for name, net in result["networks"].items():
        out += _network_problems(name, net, result["classes"], result["mode"] == "strict")
    return out


def _cases(result: dict) -> tuple:
    return tuple(sorted({v["case"] for net in result["networks"].values() for v in net["per_volume"]}))


def _optional_metrics(result: dict) -> list[str]:
    return [m.key for m in METRICS.values() if m.optional and any(
        m.key in v for net in result["networks"].values() for v in net["per_volume"])]


def _odd_ones(results: dict[Path, dict], what: str, value, expected=None) -> list[str]:
    """A line for each file whose ``value(result)`` differs from ``expected`` (else the most common)."""
    def freeze(v):
        return tuple(v) if isinstance(v, list) else v

    values = {path: freeze(value(r)) for path, r in results.items()}
    expected = freeze(expected)
    if expected is None:
        counts = Counter(values.values())
        if len(counts) < 2:
            return []
        expected = counts.most_common(1)[0][0]
        against = f"the other {counts[expected]} file(s)"
    else:
        against = "the configuration"
    def show(v):
        return list(v) if isinstance(v, tuple) else v

    return [f"{path}: {what} {show(v)!r}, but {against}: {show(expected)!r}" for path, v in values.items()
            if v != expected]


def set_problems(results: dict[Path, dict], expect: dict | None = None) -> list[str]:
    """Problems of a set of valid files combined into one table. ``expect``: optional
    ``dataset`` / ``mode`` / ``split`` / ``classes`` the configuration asks for."""
    expect = expect or {}
    out = []
    for key, value in (("dataset", lambda r: r["dataset"]), ("mode", lambda r: r["mode"]),
                       ("split", lambda r: r.get("split", "test")), ("classes", lambda r: r["classes"]),
                       ("optional metrics", _optional_metrics)):
        out += _odd_ones(results, key, value, expect.get(key))
    if not out and results:
        common = Counter(_cases(r) for r in results.values()).most_common(1)[0][0]
        out += [f"{path}: evaluated other volumes than most files ({len(set(_cases(r)) - set(common))} of its "
                f"{len(_cases(r))} cases not among their {len(common)}); paired tests need the same volumes"
                for path, r in results.items() if _cases(r) != common]
    cells: dict[tuple, list[Path]] = {}
    for path, r in results.items():
        cells.setdefault((r["method"], r.get("variant"), r["labeled"]), []).append(path)
    for (method, variant, labeled), paths in cells.items():
        cell = f"{method}{f' ({variant})' if variant else ''}, {labeled} labeled"
        first = paths[0]
        for path in paths[1:]:
            for key in CELL_SETTINGS:
                if results[path].get(key) != results[first].get(key):
                    out.append(f"{path}: {key} {results[path].get(key)!r}, but {first} (same cell: "
                               f"{cell}) has {results[first].get(key)!r}; a cell averages runs of one setting")
        seen: dict = {}
        for path in paths:
            seed = results[path]["seed"]
            if seed in seen:
                out.append(f"{path}: seed {seed} of {cell} again (also {seen[seed]}); a cell "
                           f"takes each seed once")
            seen.setdefault(seed, path)
    return out


def validate_files(results: dict[Path, dict], expect: dict | None = None) -> None:
    """Raise :class:`MetricsProblems` listing every problem of the files and of the set."""
    lines = []
    valid = {}
    for path, result in results.items():
        problems = file_problems(result)
        if len(problems) > MAX_LINES_PER_FILE:
            problems = [*problems[:MAX_LINES_PER_FILE - 1],
                        f"... and {len(problems) - MAX_LINES_PER_FILE + 1} more problem(s)"]
        lines += [f"{path}: {p}" for p in problems]
        if not problems:
            valid[path] = result
    if not lines:
        lines = set_problems(valid, expect)
    if lines:
        raise MetricsProblems(lines)


def load_metrics(paths, expect: dict | None = None) -> dict[Path, dict]:
    """Read and validate metrics files (:func:`validate_files`); {path: result} in the given order."""
    from advmim.errors import InputError
    from advmim.io import read_json

    results, lines = {}, []
    for path in map(Path, paths):
        try:
            results[path] = read_json(path)
        except InputError as exc:
            lines.append(str(exc))
    if lines:
        raise MetricsProblems(lines)
    validate_files(results, expect)
    return results
