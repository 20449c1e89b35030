"""The real Snakemake workflow end to end on a tiny configuration."""

import re

import pytest

from tests.workflow_utils import snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow
METHOD_ROWS = ["U-Net (labeled only)", "CTCT (S)", "CTCT (C)", "AdvMIM (S)", "AdvMIM (C)",
               "U-Net (all labels)"]


def test_workflow_runs_end_to_end_and_writes_the_table(tmp_path):
    config = write_config(tmp_path / "tiny.yaml", tiny_config(tmp_path / "results"))
    done = snakemake(tmp_path, config, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    table = (tmp_path / "results" / "tables" / "phantom.md").read_text()
    for row in METHOD_ROWS:
        line = next(ln for ln in table.splitlines() if ln.startswith(f"| {row} |"))
        numbers = [float(x) for x in re.findall(r"\d+\.\d+", line)]
        assert len(numbers) == 4, line  # Dice + HD95 for labeled 1 and 2
    assert "paper mode" in table and "Iterations: 3 at 32 px" in table
    csv = (tmp_path / "results" / "tables" / "phantom.csv").read_text()
    assert csv.startswith("row,method")
    for rule in ["phantom", "convert", "table"]:
        assert list((tmp_path / "results" / "benchmarks").rglob(f"{rule}*.tsv")), rule
    assert len(list((tmp_path / "results" / "logs" / "train").rglob("*.log"))) == 8

    again = snakemake(tmp_path, config, "-n")
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr


def test_bad_config_fails_before_any_job(tmp_path):
    config = tiny_config(tmp_path / "results")
    config["methods"].append("fixmatch")
    config["labeled"] = [1, 9]
    path = write_config(tmp_path / "bad.yaml", config)
    done = snakemake(tmp_path, path, "--cores", "1")
    assert done.returncode != 0
    err = done.stderr
    assert "unknown method 'fixmatch'" in err
    assert "9 labeled patients but the training split has only 4" in err
    assert not (tmp_path / "results").exists()
