"""Statistics for the tables: mean ± std over seeds, and the pre-registered comparisons.

The comparisons are named in the config (``report.comparisons``) before any run; none is chosen
from results. Each is tested at every labeled ratio, with the **patient** as the unit (a
patient's volumes, ACDC's ED and ES, averaged), paired over seeds x patients on the primary
metric (Dice, class mean):

- ``ci``: the mean difference and its 95 % hierarchical bootstrap CI (resample seeds, then
  patients within each resampled seed; fixed RNG seed). It carries both sources of variance.
- ``patient`` (†): two-sided Wilcoxon signed-rank test over patients of the difference averaged
  over seeds. It conditions on the trained networks: it says whether these runs differ on
  patients like these, not whether retraining would.
- ``seed`` (‡): the same test over the seeds' mean differences, only with >= ``MIN_PAIRS``
  seeds. It conditions on the test patients.

The p-values of one table are Holm-corrected together; a mark means Holm p < alpha.
"""

from __future__ import annotations

import string

import numpy as np
import pandas as pd

from advmim.errors import ConfigError
from advmim.methods import method_card
from advmim.report.collect import collect_volumes, row_label  # noqa: F401 (collect_volumes: for the figures)
from advmim.report.layout import GROUP_ORDER, GROUP_TITLE
from advmim.report.metric_defs import METRICS

MIN_PAIRS = 6
ROW_KEYS = ["method", "variant", "network"]
MARKS = {"patient": "†", "seed": "‡"}
GROUP = "group:"
CHUNK = 2000  # bootstrap resamples drawn at once


def summarise(df: pd.DataFrame, cls: str = "mean") -> pd.DataFrame:
    """Per (row, labeled) of one class (or the class mean): each metric's mean and std over seeds,
    n (seeds), missed and scored structures (summed over the runs)."""
    sub = df[df["class"] == cls]
    metrics = [m for m in METRICS if m in sub.columns]
    aggs = {k: v for m in metrics for k, v in ((m, (m, "mean")), (f"{m}_std", (m, "std")))}
    agg = sub.groupby([*ROW_KEYS, "labeled"], dropna=False).agg(
        **aggs, n=("seed", "nunique"), missed=("missed", "sum"), structures=("structures", "sum"))
    return agg.reset_index()


def paired_wilcoxon(a, b, min_pairs: int = MIN_PAIRS) -> dict:
    """Two-sided paired Wilcoxon signed-rank test of ``a`` vs ``b`` (zero differences dropped).

    Returns ``{"n_pairs", "n_nonzero", "mean_diff", "statistic", "p_value", "note"}``;
    ``p_value`` is NaN and ``note`` says why when fewer than ``min_pairs`` differences are non-zero.
    """
    from scipy.stats import wilcoxon

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples need equal 1-D shapes, got {a.shape} and {b.shape}")
    diff = a - b
    n_nonzero = int(np.count_nonzero(diff))
    out = {"n_pairs": len(diff), "n_nonzero": n_nonzero,
           "mean_diff": float(diff.mean()) if len(diff) else float("nan"),
           "statistic": float("nan"), "p_value": float("nan"), "note": ""}
    if n_nonzero < min_pairs:
        out["note"] = f"n too small ({n_nonzero} non-zero of {len(diff)} pairs; need {min_pairs})"
        return out
    res = wilcoxon(a, b, zero_method="wilcox", alternative="two-sided")
    out["statistic"], out["p_value"] = float(res.statistic), float(res.pvalue)
    return out


def hierarchical_bootstrap(diff: np.ndarray, resamples: int, seed: int, level: float = 0.95) -> tuple:
    """(low, high) percentile CI of the mean of ``diff`` (seeds x patients): each resample draws
    the seeds with replacement, then the patients with replacement within each drawn seed."""
    diff = np.asarray(diff, dtype=float)
    n_seeds, n_patients = diff.shape
    rng = np.random.default_rng(seed)
    means = []
    for start in range(0, resamples, CHUNK):  # bounded memory: CHUNK x seeds x patients indices
        size = min(CHUNK, resamples - start)
        seeds = rng.integers(0, n_seeds, size=(size, n_seeds))
        patients = rng.integers(0, n_patients, size=(size, n_seeds, n_patients))
        means.append(diff[seeds[:, :, None], patients].mean(axis=(1, 2)))
    means = np.concatenate(means)
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (NaN entries are no test and stay NaN; the family is the rest)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full_like(p, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    order = idx[np.argsort(p[idx], kind="stable")]
    m = len(order)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order]) if m else []
    out[order] = np.minimum(adjusted, 1.0)
    return out


def patient_frame(volumes: pd.DataFrame) -> pd.DataFrame:
    """Per (row, labeled, seed, patient): the volume means (:func:`advmim.report.collect.volume_means`)
    averaged over the patient's volumes (ACDC: ED and ES)."""
    keys = [*ROW_KEYS, "labeled", "seed", "patient"]
    return volumes.groupby(keys, dropna=False)["dice"].mean().reset_index()


def _row_spec(spec: str, where: str) -> tuple:
    if spec.startswith(GROUP):
        if spec[len(GROUP):] not in GROUP_ORDER:
            raise ConfigError(f"{where}: unknown group {spec!r}; valid: "
                              f"{', '.join(GROUP + g for g in GROUP_ORDER)}")
        return ("group", spec[len(GROUP):])
    method, _, network = spec.partition(":")
    try:
        reported = method_card(method).reported
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if network and network not in reported:
        raise ConfigError(f"{where}: {method} reports network(s) {', '.join(reported)}, not {network!r}")
    return ("row", (method, None, network or next(iter(reported))))


def comparison_pairs(config: dict, rows: list[tuple]) -> tuple[list[dict], list[tuple[str, str]]]:
    """The pre-registered pairs present among ``rows`` ((method, variant, network) of the table):
    ``[{"entry": letter, "row": key, "vs": key}]`` and (letter, why) of those that cannot be made."""
    report = config.get("report", {})
    pairs, notes = [], []
    groups = {r: method_card(r[0]).group for r in rows}
    for i, entry in enumerate(report.get("comparisons", [])):
        letter = string.ascii_lowercase[i % 26]
        where = f"report/comparisons/{i}"
        kind, a = _row_spec(entry["row"], where)
        vs_kind, b = _row_spec(entry["vs"], where)
        left = [r for r in rows if groups[r] == a] if kind == "group" else [a] if a in rows else []
        for row in left:
            if vs_kind == "group":
                found = [r for r in rows if groups[r] == b and r[2] == row[2]]
                if not found:
                    notes.append((letter, f"{row_label(row[0], row[2])} (no {GROUP_TITLE[b]} row with "
                                           f"its network, {row[2]}, in the table)"))
                    continue
                other = found[0]
            else:
                other = b
            if other not in rows or other == row:
                notes.append((letter, f"{entry['row']} vs {entry['vs']} (a row is not in the table)"))
                continue
            pairs.append({"entry": letter, "row": row, "vs": other})
        if not left:
            notes.append((letter, f"{entry['row']} vs {entry['vs']} (no such row in the table)"))
    return pairs, notes


def _difference(patients: pd.DataFrame, labeled: int, row: tuple, vs: tuple) -> pd.DataFrame:
    """Seeds x patients matrix of row - vs (only seeds and patients both have)."""
    at = patients[patients["labeled"] == labeled]

    def grid(key):
        sel = at[(at["method"] == key[0]) & (at["network"] == key[2]) & at["variant"].isna()]
        return sel.pivot_table(index="seed", columns="patient", values="dice")

    diff = grid(row) - grid(vs)
    return diff.dropna(axis=1, how="any").dropna(axis=0, how="any")


def compare(volumes: pd.DataFrame, config: dict, rows: list[tuple]) -> tuple[pd.DataFrame, list[tuple]]:
    """Every pre-registered comparison at every labeled ratio: one line per test (``patient``,
    ``seed``) with the CI of the mean difference, raw and Holm p (over all tests of the table),
    and a line (no test, ``note`` says why) for each comparison that cannot be made."""
    report = config.get("report", {})
    alpha, resamples, seed = report.get("alpha", 0.05), report.get("resamples", 10000), report.get("bootstrap_seed", 0)
    pairs, notes = comparison_pairs(config, rows)
    patients = patient_frame(volumes)
    out = []
    for lab in sorted(patients["labeled"].unique()):
        for pair in pairs:
            diff = _difference(patients, lab, pair["row"], pair["vs"])
            if diff.empty:
                continue
            low, high = hierarchical_bootstrap(diff.to_numpy(), resamples, seed, 1 - alpha)
            base = {"labeled": int(lab), "entry": pair["entry"], "row": row_label(pair["row"][0], pair["row"][2]),
                    "vs": row_label(pair["vs"][0], pair["vs"][2]), "method": pair["row"][0],
                    "network": pair["row"][2], "n_seeds": diff.shape[0], "n_patients": diff.shape[1],
                    "mean_diff": float(diff.to_numpy().mean()), "ci_low": low, "ci_high": high}
            for unit, values in (("patient", diff.mean(axis=0)), ("seed", diff.mean(axis=1))):
                test = paired_wilcoxon(values.to_numpy(), np.zeros(len(values)))
                out.append({**base, "unit": unit, "statistic": test["statistic"],
                            "p_value": test["p_value"], "note": test["note"]})
    out += [{"entry": letter, "p_value": np.nan, "note": f"not tested: {why}"} for letter, why in dict.fromkeys(notes)]
    tests = pd.DataFrame(out, columns=["labeled", "entry", "row", "vs", "method", "network", "unit", "n_seeds",
                                       "n_patients", "mean_diff", "ci_low", "ci_high", "statistic",
                                       "p_value", "note"])
    tests["p_holm"] = holm(tests["p_value"]) if len(tests) else []
    tests["significant"] = tests["p_holm"] < alpha
    return tests, notes


def marks_for(tests: pd.DataFrame | None, method: str, network: str, labeled: int) -> str:
    """The marks of one row's primary-metric cell: ``a†`` = comparison a significant by patients."""
    if tests is None or tests.empty:
        return ""
    hit = tests[(tests["method"] == method) & (tests["network"] == network)
                & (tests["labeled"] == labeled) & tests["significant"]]
    marks = {}
    for entry, unit in zip(hit["entry"], hit["unit"], strict=True):
        marks[entry] = marks.get(entry, "") + MARKS[unit]
    return " ".join(f"{e}{s}" for e, s in sorted(marks.items()))


def _describe(spec: str, comparator: bool) -> str:
    """A comparison side in words: a row's display name, or a group."""
    kind, what = _row_spec(spec, "report/comparisons")
    if kind == "row":
        return row_label(what[0], what[2])
    title = GROUP_TITLE[what]
    return f"the {title} row with the same network" if comparator else f"each {title} row"


def tests_footnote(tests: pd.DataFrame | None, notes: list[tuple], config: dict) -> str:
    """What was compared, how, and what the tests condition on."""
    report = config.get("report", {})
    entries = [f"{string.ascii_lowercase[i]} = {_describe(c['row'], False)} vs {_describe(c['vs'], True)}"
               for i, c in enumerate(report.get("comparisons", []))]
    if not entries:
        return "No comparisons pre-registered (report.comparisons is empty): no marks."
    n = 0 if tests is None else int(tests["p_value"].notna().sum())
    text = (f"Pre-registered comparisons (report.comparisons, fixed in the config before the runs): "
            f"{'; '.join(entries)}. "
            f"Unit: the patient (its volumes, ED and ES, averaged); paired over seeds x patients on Dice; "
            f"{100 * (1 - report.get('alpha', 0.05)):g} % CI of the mean difference by hierarchical bootstrap "
            f"({report.get('resamples', 10000):,} resamples of seeds, then of patients within each seed; "
            f"RNG seed {report.get('bootstrap_seed', 0)}), in _stats.csv. Marks (letter = comparison, "
            f"two-sided, Holm p < {report.get('alpha', 0.05)} over all {n} tests of this table): "
            f"† Wilcoxon signed-rank over patients of the difference averaged over seeds (conditions on "
            f"these trained networks: not on retraining); ‡ the same over seed means, only with >= "
            f"{MIN_PAIRS} seeds (conditions on these test patients).")
    if notes:
        text += " Not tested: " + "; ".join(f"{letter}: {why}" for letter, why in dict.fromkeys(notes)) + "."
    return text
