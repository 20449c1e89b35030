"""SIGTERM/SIGINT during a command (issue 15, cases 21 and 22): one line, nothing stale left,
no work lost. Real processes and real signals; each test waits for the command to be inside its
work before signalling it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _start(*argv, stderr: Path | None = None) -> subprocess.Popen:
    """The CLI as a child process; its stderr goes to the file ``stderr`` when given."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    err = subprocess.PIPE if stderr is None else open(stderr, "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "advmim", *map(str, argv)], env=env,
                            stdout=subprocess.PIPE, stderr=err, text=True)
    proc.err_file = stderr
    return proc


def _stderr(proc: subprocess.Popen) -> str:
    return proc.err_file.read_text() if proc.err_file else proc.stderr.read()


def _wait_for(proc: subprocess.Popen, ready, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"finished before it could be interrupted:\n{_stderr(proc)}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("never got ready to be interrupted")
        time.sleep(0.005)


def _interrupt(proc: subprocess.Popen, sig: int, whole: bool = False) -> str:
    """Send ``sig``; the exit status is 128 + sig, no traceback; the last stderr line (or all)."""
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    err = proc.err_file.read_text() if proc.err_file else err
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert "Traceback" not in err, err
    return err if whole else err.rstrip().splitlines()[-1]


def _temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp" in p.name]


@pytest.fixture(scope="module")
def bigger_raw(tmp_path_factory) -> Path:
    """A phantom that takes about a second to convert (time to interrupt it)."""
    from advmim.data.phantom import write_phantom

    return write_phantom(tmp_path_factory.mktemp("raw"), 0, 16, (64, 64), (6, 8))


CONVERT = ("--val", "1", "--test", "1", "--labeled", "1")


def test_sigterm_during_convert_leaves_nothing(bigger_raw, tmp_path):
    out = tmp_path / "out"
    proc = _start("convert", "phantom", "--raw", bigger_raw, "--out", out, *CONVERT)
    _wait_for(proc, lambda: any(p.suffix == ".h5" for p in tmp_path.glob(".out.*/data/*")))
    line = _interrupt(proc, signal.SIGTERM)
    assert line.startswith("advmim convert: error: interrupted by SIGTERM"), line
    assert not out.exists() and not _temporaries(tmp_path)


def test_a_sigterm_swallowed_by_a_del_callback_is_raised_at_the_next_progress_step():
    """CI once saw convert finish with exit 0 after SIGTERM: the handler's exception was raised
    inside a weakref callback, where Python ignores it (and printed a traceback). The signal stays pending, unprinted,
until reported."""
    from advmim.errors import Interrupted
    from advmim.progress import Progress
    from advmim.signals import delivered, sigterm_raises

    class SwallowsTheSignal:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)  # the handler runs here; its exception is "ignored"

    try:
        with sigterm_raises():
            SwallowsTheSignal()
            with pytest.raises(Interrupted), Progress("work", total=2, enabled=False) as bar:
                bar.update(advance=1)
    finally:
        delivered()
    Progress("later work", total=1, enabled=False).update(advance=1)  # nothing pending any more


def test_stale_temporaries_of_killed_runs_are_swept(bigger_raw, tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname().split(".")[0]
    stale_stage = tmp_path / f".out.{dead.pid}@{host}.x1y2.tmp"
    (stale_stage / "data").mkdir(parents=True)
    (stale_stage / "data" / "patient001_frame01.h5").write_bytes(b"half")
    alive = tmp_path / f".out.{os.getpid()}@{host}.z3.tmp"  # a live process: kept
    alive.mkdir()
    proc = _start("convert", "phantom", "--raw", bigger_raw, "--out", tmp_path / "out", *CONVERT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert not stale_stage.exists() and alive.is_dir()
    assert (tmp_path / "out" / "dataset.json").is_file()


def test_sigterm_during_zip_extraction_leaves_nothing(tmp_path):
    archive = tmp_path / "acdc.zip"
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for k in range(4000):
            zf.writestr(f"database/training/patient{k % 100 + 1:03d}/f{k}.nii.gz", rng.bytes(2048))
    out = tmp_path / "raw"
    proc = _start("download", "acdc", "--zip", archive, "--out", out, "--no-progress")
    _wait_for(proc, lambda: any(out.glob(".extract.*/raw/database/training/*")))
    line = _interrupt(proc, signal.SIGTERM)
    assert line.startswith("advmim download: error: interrupted by SIGTERM"), line
    assert sorted(p.name for p in out.iterdir()) == [] and not _temporaries(tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_training_writes_a_checkpoint_and_resumes(tiny_settings, phantom_data, tmp_path, sig):
    settings = json.dumps(tiny_settings("supervised_unet", iterations=100000, checkpoint_every=100000))
    run = tmp_path / "run"
    argv = ("train", "--data", phantom_data, "--settings", settings, "--out", run)
    proc = _start(*argv, "--no-progress")
    _wait_for(proc, lambda: (run / "config.json").exists())
    time.sleep(1.0)  # a few iterations in
    line = _interrupt(proc, sig)
    name = signal.Signals(sig).name
    assert line.startswith(f"advmim train: error: interrupted by {name}; checkpoint of iteration"), line
    done = int(line.split("checkpoint of iteration ")[1].split()[0])
    assert done >= 1 and (run / "ckpt" / "last.pt").is_file() and not (run / "model.pt").exists()
    assert len((run / "train_log.csv").read_text().splitlines()) == done + 1
    assert not _temporaries(run)

    mtime = (run / "ckpt" / "last.pt").stat().st_mtime_ns
    log = tmp_path / "again.err"  # resumes where it stopped, interrupted again later
    again = _start(*argv, stderr=log)
    _wait_for(again, lambda: f"resuming from iteration {done} " in log.read_text())
    time.sleep(1.0)
    err = _interrupt(again, sig, whole=True)
    line = err.rstrip().splitlines()[-1]
    later = int(line.split("checkpoint of iteration ")[1].split()[0])
    assert (run / "ckpt" / "last.pt").stat().st_mtime_ns > mtime
    assert later > done
    log = (run / "train_log.csv").read_text().splitlines()
    assert [int(r.split(",")[0]) for r in log[1:]] == list(range(1, later + 1))


def test_rerun_after_an_unaccepted_finish_restores_the_model(tiny_settings, phantom_data, tmp_path):
    """Case 23: Snakemake interrupted as training finished marks model.pt incomplete and
    --rerun-incomplete deletes it; the rerun restores it instead of training from iteration 0."""
    settings = json.dumps(tiny_settings("supervised_unet", iterations=3, checkpoint_every=2))
    run = tmp_path / "run"
    argv = ("train", "--data", phantom_data, "--settings", settings, "--out", run, "--no-progress")
    first = _start(*argv)
    assert first.wait(timeout=120) == 0, first.stderr.read()
    model = (run / "model.pt").read_bytes()
    info = (run / "run_info.json").stat().st_mtime_ns
    (run / "model.pt").unlink()  # what --rerun-incomplete does to an output marked incomplete
    again = _start(*argv)
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "restored from" in err and (run / "model.pt").read_bytes() == model
    assert (run / "run_info.json").stat().st_mtime_ns == info  # nothing was trained again

    changed = json.dumps(tiny_settings("supervised_unet", iterations=4, checkpoint_every=2))
    (run / "model.pt").unlink()
    third = _start("train", "--data", phantom_data, "--settings", changed, "--out", run, "--no-progress")
    _, err = third.communicate(timeout=120)
    assert third.returncode == 0 and "restored" not in err, err  # other settings: trained anew
    assert json.loads((run / "run_info.json").read_text())["iterations_run"] == 4


@pytest.mark.slow
def test_snakemake_killed_as_training_finishes_does_not_retrain(tmp_path):
    """Case 23 through the real workflow: snakemake dies after the job wrote model.pt but before
    it accepted it (the output stays marked incomplete), then `--rerun-incomplete` deletes
    model.pt and the rerun restores it instead of training from iteration 0. Deterministic:
    snakemake is stopped (SIGSTOP) the moment model.pt appears, so it cannot accept the output;
    the job finishes; then snakemake is killed."""
    import psutil

    from tests.workflow_utils import SNAKEMAKE, tiny_config, write_config

    config = tiny_config(tmp_path / "results", methods=("supervised_unet",), iterations=30)
    config["labeled"] = [1]
    configfile = write_config(tmp_path / "c.yaml", config)
    run = tmp_path / "results" / "runs" / "phantom" / "supervised_unet" / "L1" / "seed0"
    cmd = [str(SNAKEMAKE), str(run / "model.pt"), "-s", str(ROOT / "Snakefile"), "--directory",
           str(tmp_path), "--cores", "1", "--configfile", str(configfile)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_file(proc, run / "model.pt")
    proc.send_signal(signal.SIGSTOP)
    job = [c for c in psutil.Process(proc.pid).children(recursive=True) if _runs_training(c)]
    deadline = time.monotonic() + 120
    while any(_runs_training(c) for c in job):  # the job ends; snakemake cannot see it
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=60)
    assert (run / "model.pt").is_file()
    assert any((tmp_path / ".snakemake" / "incomplete").iterdir())  # model.pt was not accepted
    subprocess.run([*cmd, "--unlock"], env=env, capture_output=True, check=True, timeout=120)
    again = subprocess.run([*cmd, "--rerun-incomplete"], env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    log = (tmp_path / "results" / "logs" / "train" / "phantom" / "supervised_unet_L1_seed0.log").read_text()
    assert "restored from" in log and (run / "model.pt").is_file(), log


def _runs_training(process) -> bool:
    """Whether ``process`` is the training job (its shell or `advmim train`) and still running;
    False once it has exited (gone, or a zombie its stopped parent cannot reap)."""
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE and "train" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _wait_for_file(proc: subprocess.Popen, path: Path, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{path} never appeared:\n{proc.communicate()[0][-3000:]}")
        time.sleep(0.002)
