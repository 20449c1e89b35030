"""Paired Wilcoxon tests and seed statistics on hand-made numbers (p-values checked against scipy)."""

import numpy as np
import pytest
from report_helpers import study, write_metrics
from scipy.stats import wilcoxon

from advmim.report.collect import collect
from advmim.report.stats import (
    MIN_PAIRS,
    collect_volumes,
    compare_with_best_baseline,
    marks_for,
    paired_wilcoxon,
    summarise,
)


def test_all_positive_six_pairs_gives_exact_p():
    res = paired_wilcoxon([1, 2, 3, 4, 5, 6], [0] * 6)
    assert res["p_value"] == pytest.approx(2 / 2**6)  # exact: only the all-positive sign pattern and its mirror
    assert res["statistic"] == 0 and res["n_nonzero"] == 6


def test_matches_scipy_with_ties():
    b = np.array([70, 72, 75, 80, 66, 90, 79, 73])
    a = b + np.array([1, -1, 2, 2, -2, 3, 5, 4])  # tied |differences|: 1, 1 and 2, 2, 2
    res = paired_wilcoxon(a, b)
    assert res["p_value"] == pytest.approx(wilcoxon(a, b).pvalue)
    assert res["mean_diff"] == pytest.approx(float(np.mean(a - b)))


def test_zero_differences_are_dropped():
    a, b = [5, 6, 7, 8, 9, 10, 3, 3], [0, 0, 0, 0, 0, 0, 3, 3]
    res = paired_wilcoxon(a, b)
    assert res["n_pairs"] == 8 and res["n_nonzero"] == 6
    assert res["p_value"] == pytest.approx(wilcoxon(a[:6], b[:6]).pvalue)


@pytest.mark.parametrize("a,b", [([1, 2, 3, 4, 5], [0] * 5), ([1] * 8, [1] * 8), ([], [])])
def test_too_few_pairs_gives_no_p_value(a, b):
    res = paired_wilcoxon(a, b)
    assert np.isnan(res["p_value"]) and res["note"].startswith("n too small")
    assert f"need {MIN_PAIRS}" in res["note"]


def test_unequal_lengths_rejected():
    with pytest.raises(ValueError, match="equal"):
        paired_wilcoxon([1, 2], [1])


def test_best_baseline_comparison_over_volumes_and_seeds(tmp_path):
    files = study(tmp_path, seeds=(0, 1))
    tests = compare_with_best_baseline(collect_volumes(files), collect(files))
    assert list(tests["unit"]) == ["volume", "seed"]
    vol, seed = tests.iloc[0], tests.iloc[1]
    assert vol["baseline"] == "CTCT (S)"  # best non-ours, non-upper row; 'U-Net (all labels)' excluded
    assert vol["ours"] == "AdvMIM (S)"
    # per case: AdvMIM (S) - CTCT (S) = 0.05 + 0.01 (i + 1), the same for both seeds
    base = np.array([0.50 + 0.03 * i for i in range(8)])
    expected = wilcoxon(base + 0.01 * np.arange(1, 9), base - 0.05).pvalue
    assert vol["n_pairs"] == 8 and vol["p_value"] == pytest.approx(expected) and vol["significant"]
    assert seed["n_pairs"] == 2 and seed["note"].startswith("n too small") and not seed["significant"]
    assert marks_for(tests, 2) == "†" and marks_for(tests, 4) == ""


def test_summarise_mean_std_n(tmp_path):
    files = [write_metrics(tmp_path, "ctct", 2, s, {"C": [d]}) for s, d in [(0, 0.6), (1, 0.8), (2, 0.7)]]
    row = summarise(collect(files)).iloc[0]
    assert row["n"] == 3
    assert row["dice"] == pytest.approx(0.7) and row["dice_std"] == pytest.approx(0.1)
