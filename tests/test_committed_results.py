"""The real-data tables in docs/ are rebuilt from the per-volume metrics committed beside them.

docs/data/acdc_cpu/metrics holds the metrics JSON of every run of the real-ACDC CPU table
(`advmim evaluate` output, one file per run); `advmim table` on them must print exactly the
rows docs/results.md shows, so a table in the docs cannot drift from its data or be edited by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

from advmim.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "data" / "acdc_cpu"


def committed_metrics() -> list[Path]:
    return sorted((DATA / "metrics").rglob("*.json"))


def table_rows(text: str) -> list[str]:
    """Table rows and the footnote (which carries the tests' p-values)."""
    return [line for line in text.splitlines() if line.startswith(("| ", "_Dataset:"))]


def test_committed_metrics_are_test_split_per_volume_files():
    files = committed_metrics()
    assert files, f"no committed metrics under {DATA / 'metrics'}"
    for path in files:
        result = json.loads(path.read_text())
        assert result["dataset"] == "acdc" and result["split"] == "test", path
        assert result["checkpoint"] == "last" and result["iterations"] == 3000, path
        for net in result["networks"].values():
            assert len(net["per_volume"]) == 40, path  # the 20 SSL4MIS test patients, ED + ES


def test_docs_table_is_the_one_the_committed_metrics_rebuild(tmp_path):
    out = tmp_path / "acdc.md"
    rc = main(["table", "--configfile", str(ROOT / "config" / "acdc_cpu.yaml"),
               "--base", str(ROOT / "config" / "config.yaml"),
               "--metrics", *map(str, committed_metrics()),
               "--references", str(ROOT / "config" / "reference_results.csv"),
               "--out", str(out), "--quiet"])
    assert rc == 0
    rows = table_rows(out.read_text().split("\n## ")[0])  # the main table, not the per-class ones
    assert len(rows) > 10
    documented = set(table_rows((ROOT / "docs" / "results.md").read_text()))
    missing = [row for row in rows if row not in documented]
    assert not missing, "docs/results.md lacks rows the committed metrics give:\n" + "\n".join(missing)


def test_dice_figure_from_the_committed_metrics_without_runs(tmp_path):
    """The figure of docs/results.md needs the metrics only (no run folders, no training)."""
    order = ["supervised_unet", "supervised_swin", "mean_teacher", "uamt", "entropy_min", "ict", "cct",
             "cps", "urpc", "dct", "ctct", "advmim", "full_unet"]
    rc = main(["figures", "--metrics", *map(str, committed_metrics()), "--kind", "dice",
               "--order", *order, "--out", str(tmp_path / "fig")])
    assert rc == 0
    png = tmp_path / "fig" / "dice_vs_labeled.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
