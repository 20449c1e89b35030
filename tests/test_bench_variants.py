"""benchmarks/variants.py: runs of a configuration (methods and ablation variants as data) per
seed, scored on val, with the paired difference to a reference. The tiny run measures nothing;
it checks the script end to end, that it trains exactly the workflow's settings and resumes."""

import json
import subprocess
import sys
from pathlib import Path

import yaml

from advmim.runs import job_settings, load_configs

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / ".test" / "config" / "config.yaml"


def test_variants_table_settings_and_resume(tmp_path):
    overlay = tmp_path / "variant.yaml"
    overlay.write_text(yaml.safe_dump({"ablations": {"mt_off": {
        "method": "mean_teacher", "label": "Mean Teacher, consistency 0", "params": {"consistency": 0.0}}}}))
    work, out = tmp_path / "work", tmp_path / "table.md"
    argv = [sys.executable, str(REPO / "benchmarks" / "variants.py"), "--configfile", str(TINY), str(overlay),
            "--runs", "mean_teacher", "abl-mt_off", "--seeds", "0", "1", "--work", str(work), "--out", str(out)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line for line in out.read_text().splitlines() if line.startswith("| abl-mt_off ")]
    assert len(rows) == 1 and "(vs mean_teacher)" in rows[0], out.read_text()
    mean = float(rows[0].split("|")[4].split("±")[0])
    per_seed = [float(v) for v in rows[0].split("|")[5].split("/")]
    assert 0 <= mean <= 100 and abs(mean - sum(per_seed) / 2) < 0.06  # percent, as the seeds
    runs = sorted(work.glob("runs/abl-mt_off/L2/seed*"))
    runs = [r for r in runs if r.is_dir()]
    assert len(runs) == 2
    config = load_configs([TINY, overlay])
    trained = json.loads((runs[0] / "config.json").read_text())
    expected = job_settings(config, "abl-mt_off", 2, int(runs[0].name[4:].split("-")[0]))
    assert trained["method_params"] == expected["method_params"] and trained["method_params"]["consistency"] == 0
    stamp = {r: (r / "model.pt").stat().st_mtime_ns for r in runs}
    again = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {r: (r / "model.pt").stat().st_mtime_ns for r in runs} == stamp  # resumed: nothing retrained
