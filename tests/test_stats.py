"""Pre-registered comparisons (patient unit, hierarchical bootstrap, Holm) and seed statistics
on hand-made numbers (p-values checked against scipy)."""

import json

import numpy as np
import pytest
from report_helpers import study, write_metrics
from scipy.stats import wilcoxon

from advmim.errors import ConfigError
from advmim.report.collect import collect, collect_volumes
from advmim.report.stats import (
    MIN_PAIRS,
    compare,
    hierarchical_bootstrap,
    holm,
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


def _compare(files, comparisons, methods=("supervised_unet", "ctct", "advmim", "full_unet")):
    from advmim.report.model import ordered_rows

    runs = collect(files)
    rows = [r for r in ordered_rows(summarise(runs), list(methods)) if r[1] is None]
    config = {"methods": list(methods), "report": {"comparisons": comparisons, "alpha": 0.05,
                                                    "resamples": 2000, "bootstrap_seed": 0}}
    return compare(collect_volumes(files), config, rows)


def test_comparator_comes_from_the_config_not_from_the_results(tmp_path):
    files = study(tmp_path, seeds=(0, 1))  # CTCT (S) is the best baseline, CTCT (C) is not
    tests, notes = _compare(files, [{"row": "advmim:S", "vs": "ctct:C"}])
    assert set(tests["vs"]) == {"CTCT (C)"} and set(tests["row"]) == {"AdvMIM (S)"} and not notes
    assert len(tests) == 2
    assert set(tests["unit"]) == {"patient", "seed"} and set(tests["entry"]) == {"a"}
    tests, notes = _compare(files, [])
    assert tests.empty and not notes
    tests, notes = _compare(files, [{"row": "group:ours", "vs": "group:lower"}])
    assert list(dict.fromkeys(tests["row"].dropna())) == ["AdvMIM (C)"]  # only its U-Net row has a lower bound
    assert notes == [("a", "AdvMIM (S) (no Supervised (labeled only) row with its network, S, in the table)")]
    assert tests["note"].iloc[-1] == "not tested: " + notes[0][1]  # kept in the _stats.csv too
    with pytest.raises(ConfigError, match="report/comparisons/0: unknown method 'fixmatch'"):
        _compare(files, [{"row": "fixmatch", "vs": "ctct"}])


def test_unit_is_the_patient_ed_and_es_averaged(tmp_path):
    """Two frames per patient: one pair per patient (not per volume), the frames averaged."""
    rng = np.random.default_rng(3)
    ours, base = rng.uniform(0.5, 0.9, 16), rng.uniform(0.4, 0.8, 16)
    files = []
    for method, dice in (("advmim", ours), ("ctct", base)):
        path = write_metrics(tmp_path, method, 2, 0, {"S": list(dice), "C": list(dice)})
        result = json.loads(path.read_text())
        for net in result["networks"].values():  # volumes 2k and 2k+1: patient k, ED and ES
            for i, vol in enumerate(net["per_volume"]):
                vol["case"] = f"patient{i // 2:03d}_frame{1 + i % 2:02d}"
        path.write_text(json.dumps(result))
        files.append(path)
    tests, _ = _compare(files, [{"row": "advmim:S", "vs": "ctct:S"}])
    patient = tests[tests["unit"] == "patient"].iloc[0]
    assert patient["n_patients"] == 8 and patient["n_seeds"] == 1
    per_patient = (ours - base).reshape(8, 2).mean(axis=1)
    assert patient["p_value"] == pytest.approx(wilcoxon(per_patient).pvalue)
    assert patient["mean_diff"] == pytest.approx(per_patient.mean())


def test_holm_against_a_hand_computed_example():
    # sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> max so far 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005, float("nan")])
    assert adjusted[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02]) and np.isnan(adjusted[4])
    assert holm([0.6, 0.5]) == pytest.approx([1.0, 1.0])  # capped at 1


def test_holm_runs_over_every_test_of_the_table(tmp_path):
    files = study(tmp_path, seeds=tuple(range(6)), n_cases=7)
    tests, _ = _compare(files, [{"row": "advmim:S", "vs": "ctct:S"}, {"row": "advmim:C", "vs": "ctct:C"}])
    assert len(tests) == 4 and tests["p_value"].notna().all()  # 2 comparisons x (patients, 6 seeds)
    assert tests["p_holm"].to_numpy() == pytest.approx(holm(tests["p_value"]))
    # 7 patients: p = 2 / 2**7 alone would pass; Holm over the 4 tests of this table does not
    patient = tests[tests["unit"] == "patient"]
    assert (patient["p_value"] < 0.05).all() and not tests["significant"].any()
    assert marks_for(tests, "advmim", "S", 2) == ""


def test_hierarchical_bootstrap_is_seeded_and_resamples_seeds():
    constant = np.full((3, 5), 0.2)
    assert hierarchical_bootstrap(constant, 500, 0) == pytest.approx((0.2, 0.2))
    diff = np.array([[0.0] * 5, [0.1] * 5, [0.2] * 5])  # patients agree, seeds differ
    low, high = hierarchical_bootstrap(diff, 5000, 7)
    assert (low, high) == hierarchical_bootstrap(diff, 5000, 7)
    assert low < 0.07 and high > 0.13  # the seed-to-seed spread reaches the CI


def test_summarise_mean_std_n(tmp_path):
    files = [write_metrics(tmp_path, "ctct", 2, s, {"C": [d]}) for s, d in [(0, 0.6), (1, 0.8), (2, 0.7)]]
    row = summarise(collect(files)).iloc[0]
    assert row["n"] == 3 and row["missed"] == 0 and row["structures"] == 9
    assert row["dice"] == pytest.approx(0.7) and row["dice_std"] == pytest.approx(0.1)
