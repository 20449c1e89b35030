"""Preemption: SIGKILL the workflow mid-training, re-run it, and get bit-identical results."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.workflow_utils import ROOT, SNAKEMAKE, snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow
RUN = "results/runs/phantom/supervised_unet/L1/seed1337"


def _config(tmp_path):
    config = tiny_config(tmp_path / "results", methods=("supervised_unet",), iterations=30)
    config["labeled"] = [1]
    config["training"]["checkpoint_every"] = 5
    return write_config(tmp_path / "tiny.yaml", config)


def _start(workdir, configfile):
    cmd = [str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(configfile), "--cores", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env, start_new_session=True)


def _training_pid(workdir) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                argv = Path(f"/proc/{entry}/cmdline").read_bytes().decode().split("\0")
            except OSError:
                continue
            # the python process of the `advmim train` console script (not its /bin/sh parent)
            script = argv[1] if len(argv) > 2 else ""
            if script.endswith("/advmim") and argv[2] == "train" and str(workdir) in " ".join(argv):
                return int(entry)
    raise AssertionError("no training process found")


def test_killed_training_resumes_to_identical_metrics(tmp_path):
    whole_dir, killed_dir = tmp_path / "whole", tmp_path / "killed"
    whole_dir.mkdir()
    killed_dir.mkdir()
    assert snakemake(whole_dir, _config(whole_dir), "--cores", "1").returncode == 0

    proc = _start(killed_dir, _config(killed_dir))
    ckpt = killed_dir / RUN / "ckpt" / "last.pt"
    deadline = time.monotonic() + 300
    while not ckpt.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert ckpt.exists(), "training never wrote a checkpoint"
    os.kill(_training_pid(killed_dir), signal.SIGKILL)  # the training job, as a preemption would
    assert proc.wait(timeout=120) != 0  # Snakemake reports the failed job and stops
    assert not (killed_dir / RUN / "model.pt").exists()

    rerun = snakemake(killed_dir, _config(killed_dir), "--cores", "1", "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    log = (killed_dir / "results/logs/train/phantom/supervised_unet_L1_seed1337.log").read_text()
    assert "resuming from iteration" in log
    metric = "results/metrics/phantom/supervised_unet/L1/seed1337.json"
    assert (killed_dir / metric).read_text() == (whole_dir / metric).read_text()
    assert (killed_dir / RUN / "train_log.csv").read_text() == (whole_dir / RUN / "train_log.csv").read_text()


def test_bad_input_fails_clearly_and_retries_stay_bounded(tmp_path):
    config = tiny_config(tmp_path / "results", methods=("supervised_unet",), iterations=2)
    config["labeled"] = [1]
    config["labeled_draws"] = "fixed"  # the run trains on labeled/1.list, whose slice is broken below
    configfile = write_config(tmp_path / "tiny.yaml", config)
    data = "results/data/phantom"
    assert snakemake(tmp_path, configfile, "--cores", "1", str(tmp_path / data)).returncode == 0
    first = (tmp_path / data / "labeled" / "1.list").read_text().split()[0]
    broken = tmp_path / data / "data" / "slices" / f"{first}.h5"
    broken.write_bytes(broken.read_bytes()[:100])  # truncated file

    started = time.monotonic()
    done = snakemake(tmp_path, configfile, "--cores", "1", "--retries", "2")
    assert done.returncode != 0
    assert time.monotonic() - started < 300
    log = (tmp_path / "results/logs/train/phantom/supervised_unet_L1_seed1337.log").read_text()
    assert f"{broken.name}" in log and "cannot read h5" in log
    assert "Traceback" not in log  # one clear line, not a crash deep in training
    assert not (tmp_path / RUN / "model.pt").exists()
