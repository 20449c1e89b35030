"""A real single-node SLURM cluster on localhost runs the workflow through sbatch.

scripts/slurm/start-cluster.sh installs and starts SLURM (root, apt); the test skips only when
the packages cannot be installed. Snakemake runs under ``timeout -s KILL`` because the SLURM
plugin can hang (it ignores SIGTERM).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "scripts" / "slurm" / "start-cluster.sh"
STOP = ROOT / "scripts" / "slurm" / "stop-cluster.sh"
PROFILE = ROOT / "profiles" / "slurm"
TOY = ROOT / "tests" / "slurm_toy" / "Snakefile"

pytestmark = pytest.mark.slow


def _cluster_up() -> bool:
    if not shutil.which("scontrol"):
        return False
    return subprocess.run(["scontrol", "ping"], capture_output=True, text=True).stdout.count(
        "UP") > 0


@pytest.fixture(scope="module")
def slurm_cluster():
    """Start the localhost cluster (stopped again afterwards if this test started it)."""
    was_up = _cluster_up()
    proc = subprocess.run(["bash", str(START)], capture_output=True, text=True, timeout=600)
    if proc.returncode == 3:
        pytest.skip(f"SLURM packages cannot be installed: {proc.stderr.strip()[-500:]}")
    assert proc.returncode == 0, f"start-cluster.sh failed:\n{proc.stdout}\n{proc.stderr}"
    yield
    if not was_up:
        subprocess.run(["bash", str(STOP)], env={**os.environ, "ADVMIM_SLURM_KEEP_MUNGE": "1"},
                       check=False, timeout=60)


def run_workflow_on_slurm(
    workdir: Path,
    snakefile: Path,
    configfile: Path | None = None,
    targets: Sequence[str] = (),
    extra_args: Sequence[str] = (),
    profile: Path = PROFILE,
    timeout: int = 900,
) -> subprocess.CompletedProcess:
    """Run ``snakemake --executor slurm`` on the local cluster; ``.wall_s`` holds the wall time.

    Jobs find this interpreter as ``python`` and the repository on PYTHONPATH. SLURM logs are
    kept (``workdir/.snakemake/slurm_logs``) so callers can check every job went through sbatch.
    """
    cmd = ["timeout", "-s", "KILL", str(timeout), sys.executable, "-m", "snakemake",
           "--snakefile", str(snakefile), "--directory", str(workdir),
           "--workflow-profile", str(profile), "--executor", "slurm", "--jobs", "10",
           "--slurm-status-command", "squeue",  # accounting is off on the test cluster
           "--slurm-init-seconds-before-status-checks", "1",
           "--slurm-keep-successful-logs", "--latency-wait", "5"]
    if configfile is not None:
        cmd += ["--configfile", str(configfile)]
    cmd += [*_fit_to_node(), *extra_args, *targets]
    env = {**os.environ,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    proc.wall_s = time.monotonic() - t0
    print(f"snakemake --executor slurm: rc={proc.returncode}, wall time {proc.wall_s:.1f} s")
    if proc.returncode != 0:
        print(proc.stdout[-5000:], proc.stderr[-10000:], sep="\n")
    return proc


def _fit_to_node() -> list[str]:
    """Shrink the profile's requests when the test node is smaller than they assume."""
    node = subprocess.run(["scontrol", "-o", "show", "node"], capture_output=True,
                          text=True).stdout
    cpus = int(re.search(r"CPUTot=(\d+)", node).group(1))
    mem = int(re.search(r"RealMemory=(\d+)", node).group(1))
    if cpus >= 2 and mem >= 12000:
        return []
    return ["--default-resources", "mem_mb=500", "runtime=10",
            "--set-resources", "train:gpu=1", "train:cpus_per_gpu=1", "train:mem_mb=500"]


def slurm_jobs(workdir: Path) -> dict[str, list[int]]:
    """SLURM job ids per rule, from the plugin's kept logs."""
    jobs: dict[str, list[int]] = {}
    for log in (workdir / ".snakemake" / "slurm_logs").glob("rule_*/**/*.log"):
        rule = log.relative_to(workdir / ".snakemake" / "slurm_logs").parts[0][len("rule_"):]
        jobs.setdefault(rule, []).append(int(log.stem))
    return jobs


def job_info(jobid: int) -> dict[str, str]:
    """``scontrol show job`` fields (available for MinJobAge seconds after the job ends)."""
    out = subprocess.run(["scontrol", "-o", "show", "job", str(jobid)], capture_output=True,
                         text=True, check=True).stdout
    return dict(kv.split("=", 1) for kv in out.split() if "=" in kv)


def test_toy_workflow_runs_through_sbatch(slurm_cluster, tmp_path):
    shutil.copy(TOY, tmp_path / "Snakefile")
    proc = run_workflow_on_slurm(tmp_path, tmp_path / "Snakefile", targets=["results/done.txt"])
    assert proc.returncode == 0, "snakemake failed on SLURM (output above)"

    done = (tmp_path / "results" / "done.txt").read_text()
    assert re.search(r"prepare job=\d+", done) and re.search(r"evaluate job=\d+", done)
    train = re.search(r"train job=(\d+) cuda_visible=(\S+) device=(\S+)", done)
    assert train, done
    assert train.group(3) == "cuda:0"  # claim_device respects SLURM's CUDA_VISIBLE_DEVICES

    jobs = slurm_jobs(tmp_path)
    assert sorted(jobs) == ["evaluate", "prepare", "train"], jobs
    assert all(len(ids) == 1 for ids in jobs.values()), jobs
    for rule, (jobid,) in jobs.items():
        info = job_info(jobid)
        assert info["JobState"] == "COMPLETED", (rule, info)
    assert int(train.group(1)) == jobs["train"][0]
    assert "gpu:1" in job_info(jobs["train"][0]).get("TresPerJob", "")  # sbatch --gpus=1


def test_tiny_real_workflow_runs_through_sbatch(slurm_cluster, tmp_path):
    from tests.workflow_utils import tiny_config, write_config

    config = tiny_config(tmp_path / "results", methods=("supervised_unet",), iterations=2)
    config["labeled"] = [1]
    configfile = write_config(tmp_path / "tiny.yaml", config)
    proc = run_workflow_on_slurm(tmp_path, ROOT / "Snakefile", configfile=configfile)
    assert proc.returncode == 0, "snakemake failed on SLURM (output above)"

    table = (tmp_path / "results" / "tables" / "phantom.md").read_text()
    assert "| U-Net (labeled only) |" in table
    jobs = slurm_jobs(tmp_path)
    for rule in ["phantom", "convert", "train", "evaluate"]:
        assert len(jobs.get(rule, [])) == 1, jobs
    for ids in jobs.values():
        for jobid in ids:
            assert job_info(jobid)["JobState"] == "COMPLETED"
