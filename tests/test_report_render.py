"""`snakemake --report` of a tiny finished workflow, rendered by headless Chromium (screenshot)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.workflow_utils import snakemake, tiny_config, write_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium on PATH, installed by scripts/install-chromium.sh; skips only if that install fails."""
    script = ROOT / "scripts" / "install-chromium.sh"
    proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if proc.returncode != 0 or binary is None:
        reason = f"chromium install failed (rc {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-500:]}"
        print(reason)
        pytest.skip(reason)
    return binary


def _snakemake(workdir: Path, configfile: Path, *args: str) -> None:
    done = snakemake(workdir, configfile, "--cores", "2", *args, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


def screenshot(binary: str, url: str, out: Path, profile: Path) -> None:
    subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={profile}", "--virtual-time-budget=10000", f"--screenshot={out}",
                    "--window-size=1280,900", url], capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.slow
def test_report_renders_in_chromium(tmp_path, chromium):
    import matplotlib.image as mpimg
    import numpy as np

    workdir = tmp_path / "wf"
    config = tiny_config(workdir / "results", methods=("supervised_unet", "advmim"), iterations=2)
    config["dataset"]["split"]["test"] = 2
    configfile = write_config(tmp_path / "tiny.yaml", config)
    targets = ["table", "figures"]
    _snakemake(workdir, configfile, *targets)
    report = tmp_path / "report.html"
    _snakemake(workdir, configfile, "--report", str(report), *targets)
    html = report.read_text(errors="replace")
    for name in ("phantom.csv", "phantom.tex", "phantom_stats.csv", "dice_vs_labeled.png", "qualitative.png",
                 "curves_advmim.png", "Wilcoxon"):
        assert name in html, name
    png = tmp_path / "report.png"
    screenshot(chromium, report.as_uri(), png, tmp_path / "profile")
    assert png.exists() and png.stat().st_size > 5000
    pixels = mpimg.imread(png)[..., :3].reshape(-1, 3)
    assert len(np.unique((pixels * 255).astype(int), axis=0)) > 50  # not a single colour
