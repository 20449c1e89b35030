"""The real Snakemake workflow end to end on a tiny configuration: table, figures, report."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.workflow_utils import ROOT, snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow
METHOD_ROWS = ["U-Net (labeled only)", "CTCT (S)", "CTCT (C)", "AdvMIM (S)", "AdvMIM (C)",
               "U-Net (all labels)"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A workflow run to its default target (tables + figures) in a temporary folder."""
    workdir = tmp_path_factory.mktemp("workflow")
    config = tiny_config(workdir / "results")
    config["dataset"]["split"]["test"] = 2  # median and worst test volumes differ
    configfile = write_config(workdir / "tiny.yaml", config)
    done = snakemake(workdir, configfile, "--cores", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return workdir, configfile


def test_table_lists_every_method_with_numbers(finished):
    workdir, _ = finished
    results = workdir / "results"
    table = (results / "tables" / "phantom.md").read_text()
    for row in METHOD_ROWS:
        line = next(ln for ln in table.splitlines() if ln.startswith(f"| {row} |"))
        numbers = [float(x) for x in re.findall(r"\d+\.\d+", line)]
        assert len(numbers) == 4, line  # Dice + HD95 for labeled 1 and 2
    assert "paper mode" in table and "Iterations: 3 at 32 px" in table
    assert (results / "tables" / "phantom.csv").read_text().startswith("row,method")
    for rule in ["raw_data", "convert", "table"]:
        assert list((results / "benchmarks").rglob(f"{rule}*.tsv")), rule
    # 3 methods x 2 ratios + the upper bound once (it does not depend on the labeled subset)
    assert len(list((results / "logs" / "train").rglob("*.log"))) == 7


def test_finished_workflow_has_nothing_left_to_do(finished):
    workdir, configfile = finished
    again = snakemake(workdir, configfile, "-n")
    assert again.returncode == 0
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium on PATH, installed by scripts/install-chromium.sh; skips only if that install fails."""
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "install-chromium.sh")],
                          capture_output=True, text=True, timeout=900)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if proc.returncode != 0 or binary is None:
        pytest.skip(f"chromium install failed (rc {proc.returncode}): "
                    f"{(proc.stderr or proc.stdout).strip()[-500:]}")
    return binary


def screenshot(binary: str, url: str, out: Path, profile: Path) -> None:
    subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                    f"--screenshot={out}", "--window-size=1280,900", url],
                   capture_output=True, text=True, timeout=180, check=False)


def test_report_renders_in_chromium(finished, chromium, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    workdir, configfile = finished
    report = tmp_path / "report.html"
    done = snakemake(workdir, configfile, "--report", str(report))
    assert done.returncode == 0, done.stderr[-3000:]
    html = report.read_text(errors="replace")
    for name in ("phantom.csv", "phantom.tex", "phantom_stats.csv", "dice_vs_labeled.png",
                 "qualitative.png", "curves_advmim.png", "Wilcoxon", "What this workflow did",
                 "Settings (the merged configuration this report was made with)"):  # landing page
        assert name in html, name
    png = tmp_path / "report.png"
    screenshot(chromium, report.as_uri(), png, tmp_path / "profile")
    assert png.exists() and png.stat().st_size > 5000
    pixels = mpimg.imread(png)[..., :3].reshape(-1, 3)
    assert len(np.unique((pixels * 255).astype(int), axis=0)) > 50  # not a single colour


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


def test_snakemake_lint_is_clean(tmp_path):
    done = snakemake(tmp_path, ROOT / "config" / "config.yaml", "--lint")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
