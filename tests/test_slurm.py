"""A real single-node SLURM cluster on localhost runs the workflow through sbatch.

scripts/slurm/start-cluster.sh installs SLURM when missing (root, apt) and starts a private
cluster whose configuration, munge key, state, logs and ports live under a temporary folder
(``SLURM_CONF`` points the clients at it); an existing cluster's files are never touched. The
test skips only when the packages cannot be installed. Snakemake runs under ``timeout -s KILL``
because the SLURM plugin can hang (it ignores SIGTERM).
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
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
START = ROOT / "scripts" / "slurm" / "start-cluster.sh"
STOP = ROOT / "scripts" / "slurm" / "stop-cluster.sh"
PROFILE = ROOT / "profiles" / "slurm"
TOY = ROOT / "tests" / "slurm_toy" / "Snakefile"

pytestmark = pytest.mark.slow


# What a machine's own SLURM/munge set-up consists of: the test cluster must leave it alone.
SYSTEM_FILES = ("/etc/slurm", "/etc/slurm-llnl", "/etc/munge", "/var/lib/slurm", "/var/log/slurm",
                "/run/slurmctld.pid", "/run/slurmd.pid", "/run/munge")


def system_snapshot() -> dict[str, tuple]:
    """(size, mtime) of every file under SYSTEM_FILES (absent paths are simply not listed)."""
    snap = {}
    for top in map(Path, SYSTEM_FILES):
        for path in [top, *top.rglob("*")] if top.is_dir() else [top]:
            if path.exists() or path.is_symlink():
                st = path.lstat()
                snap[str(path)] = (st.st_size, st.st_mtime_ns)
    return snap


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """A private localhost cluster under a temporary folder, stopped afterwards."""
    base = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "ADVMIM_SLURM_DIR": str(base)}
    subprocess.run(["bash", str(START), "--install-only"], env=env, capture_output=True,
                   timeout=600)  # packages first: installing them may add system files
    before = system_snapshot()
    proc = subprocess.run(["bash", str(START)], env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode == 3:
        pytest.skip(f"SLURM packages cannot be installed: {proc.stderr.strip()[-500:]}")
    assert proc.returncode == 0, f"start-cluster.sh failed:\n{proc.stdout}\n{proc.stderr}"
    saved = {k: os.environ.get(k) for k in ("SLURM_CONF", "PATH")}
    os.environ["SLURM_CONF"] = str(base / "etc" / "slurm.conf")
    os.environ["PATH"] = f"{base / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    try:
        yield SimpleNamespace(base=base, system_before=before)
    finally:
        subprocess.run(["bash", str(STOP)], env=env, check=False, timeout=60)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_cluster_runs_from_its_own_folder(slurm_cluster):
    """Case 24 of issue 15: no system SLURM/munge file is written, the daemons use -f CONF."""
    assert system_snapshot() == slurm_cluster.system_before
    conf = slurm_cluster.base / "etc" / "slurm.conf"
    assert f"StateSaveLocation={slurm_cluster.base}" in conf.read_text()
    for daemon in ("slurmctld", "slurmd"):
        pid = (slurm_cluster.base / "run" / f"{daemon}.pid").read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert str(conf).encode() in cmdline, (daemon, cmdline)


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
    for rule in ["convert", "train", "evaluate"]:  # raw_data is a local rule
        assert len(jobs.get(rule, [])) == 1, jobs
    for ids in jobs.values():
        for jobid in ids:
            assert job_info(jobid)["JobState"] == "COMPLETED"
