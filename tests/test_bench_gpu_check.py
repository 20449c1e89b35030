"""benchmarks/gpu_check.py --smoke: the GPU check's code path on the CPU (tiny sizes), and the
step times it records are ones ``advmim plan`` reads. Nothing here is timed."""

import json
import os
import subprocess
import sys
from pathlib import Path

from advmim.plan import load_step_times

REPO = Path(__file__).resolve().parents[1]


def test_smoke_run_writes_steps_concurrency_and_step_times(tmp_path):
    out, record = tmp_path / "gpu_check.json", tmp_path / "step_times.json"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--smoke",
                           "--variants", "fp32", "compile", "--out", str(out), "--record",
                           "--record-file", str(record)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    step = result["steps"]["supervised_unet"]
    assert step["fp32"]["ms_per_iter"] > 0 and step["fp32"]["peak_mem_mb"] > 0
    assert step["compile"] == {"skipped": "smoke"}
    assert set(result["concurrency"]) == {"1", "2"}
    assert all(r["iters_per_s_total"] > 0 for r in result["concurrency"].values())
    assert "| supervised_unet |" in done.stdout and "| 2 |" in done.stdout
    entries = load_step_times(record)["entries"]
    assert [(e["method"], e["device"], e["img_size"], e["amp"], e["compile"]) for e in entries] == [
        ("supervised_unet", "cpu", 32, "off", False)]
