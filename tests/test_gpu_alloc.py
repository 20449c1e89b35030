"""GPU claiming: exclusive per-device flocks across real processes, crash safety, fallbacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from advmim.train.gpu import DeviceBusyError, claim_device, peak_memory_mb

ROOT = Path(__file__).resolve().parents[1]

# A worker: claim one of N fake GPUs, hold it, print index and times as one JSON line.
WORKER = """
import json, sys, time
from advmim.train.gpu import claim_device
lock_dir, count, hold, slots = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
t0 = time.time()
with claim_device(lock_dir=lock_dir, device_count=count, cuda_available=True, timeout=60,
                  poll=0.05, jobs_per_device=slots) as claim:
    start = time.time()
    print("claimed", flush=True)
    time.sleep(hold)
    end = time.time()
print(json.dumps({"index": claim.index, "slot": claim.slot, "asked": t0, "start": start, "end": end}),
      flush=True)
"""


def _spawn(lock_dir: Path, count: int, hold: float, slots: int = 1) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return subprocess.Popen([sys.executable, "-c", WORKER, str(lock_dir), str(count), str(hold), str(slots)],
                            stdout=subprocess.PIPE, text=True, env=env)


@pytest.fixture(autouse=True)
def _no_visible_devices(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def test_six_processes_share_four_devices(tmp_path):
    procs = [_spawn(tmp_path, 4, 2.0) for _ in range(6)]
    records = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        records.append(json.loads(out.strip().splitlines()[-1]))
    assert len(records) == 6
    assert {r["index"] for r in records} <= {0, 1, 2, 3}
    for i in range(4):
        spans = sorted((r["start"], r["end"]) for r in records if r["index"] == i)
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end, f"device {i} held by two processes at once: {spans}"
    waited = [r for r in records if r["start"] - r["asked"] > 0.5]
    assert len(waited) >= 2


def _max_concurrent(spans: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])  # ends before starts
    most = held = 0
    for _, step in events:
        held += step
        most = max(most, held)
    return most


def test_seven_processes_share_two_devices_with_two_slots_each(tmp_path):
    """gpu_jobs_per_device 2: at most two jobs on a device at once, both devices used."""
    procs = [_spawn(tmp_path, 2, 2.5, slots=2) for _ in range(7)]
    records = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        records.append(json.loads(out.strip().splitlines()[-1]))
    per_device = {i: [(r["start"], r["end"]) for r in records if r["index"] == i] for i in (0, 1)}
    assert all(per_device.values())
    assert max(_max_concurrent(spans) for spans in per_device.values()) == 2
    assert _max_concurrent([(r["start"], r["end"]) for r in records]) <= 4
    assert {r["slot"] for r in records} == {0, 1}


def test_slots_fill_device_by_device_in_turn(tmp_path):
    kw = {"lock_dir": tmp_path, "device_count": 2, "cuda_available": True, "timeout": 0,
          "jobs_per_device": 3}
    claims = [claim_device(**kw) for _ in range(6)]
    assert [(c.index, c.slot) for c in claims] == [(0, 0), (1, 0), (0, 1), (1, 1), (0, 2), (1, 2)]
    assert claims[0].lock_path == tmp_path / "gpu0.lock"  # slot 0 keeps the one-job lock name
    with pytest.raises(DeviceBusyError, match="3 job slot"):
        claim_device(**kw)
    claims[3].release()
    with claim_device(**kw) as again:
        assert (again.index, again.slot) == (1, 1)
    with pytest.raises(Exception, match="at least 1"):
        claim_device(**{**kw, "jobs_per_device": 0})


def test_killed_holder_frees_its_device(tmp_path):
    p = _spawn(tmp_path, 1, 300)
    try:
        assert p.stdout.readline().strip() == "claimed"
        with pytest.raises(DeviceBusyError, match="stayed claimed"):
            claim_device(lock_dir=tmp_path, device_count=1, cuda_available=True, timeout=0.3,
                         poll=0.05)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        t0 = time.monotonic()
        with claim_device(lock_dir=tmp_path, device_count=1, cuda_available=True,
                          timeout=5, poll=0.05) as claim:
            assert claim.index == 0 and claim.locked
        assert time.monotonic() - t0 < 2
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_claims_in_one_process_are_exclusive_and_released(tmp_path):
    kw = {"lock_dir": tmp_path, "device_count": 2, "cuda_available": True, "timeout": 0}
    a, b = claim_device(**kw), claim_device(**kw)
    assert {a.index, b.index} == {0, 1}
    assert str(a.device).startswith("cuda:")
    with pytest.raises(DeviceBusyError):
        claim_device(**kw)
    a.release()
    a.release()
    with claim_device(**kw) as c:
        assert c.index == a.index
    b.release()


def test_explicit_index_waits_for_that_device(tmp_path):
    kw = {"lock_dir": tmp_path, "device_count": 2, "cuda_available": True, "timeout": 0}
    with claim_device("cuda:1", **kw) as c:
        assert c.index == 1
        with pytest.raises(DeviceBusyError):
            claim_device("cuda:1", **kw)
        assert claim_device("cuda:0", **kw).index == 0


def test_cuda_visible_devices_means_no_locking(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    claims = [claim_device(lock_dir=tmp_path, device_count=1, cuda_available=True, timeout=0)
              for _ in range(3)]
    assert all(c.index == 0 and not c.locked for c in claims)
    assert str(claims[0].device) == "cuda:0"
    assert not list(tmp_path.iterdir())


def test_no_cuda_gives_cpu(tmp_path):
    claim = claim_device(lock_dir=tmp_path, device_count=0, cuda_available=False)
    assert claim.device.type == "cpu" and claim.index is None and not claim.locked
    assert claim_device("cpu", lock_dir=tmp_path, device_count=4,
                        cuda_available=True).device.type == "cpu"
    with pytest.raises(Exception, match="CUDA is not available"):
        claim_device("cuda", lock_dir=tmp_path, device_count=0, cuda_available=False)


def test_bad_device_string():
    with pytest.raises(Exception, match="expected auto"):
        claim_device("tpu")


def test_default_lock_dir_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVMIM_GPU_LOCK_DIR", str(tmp_path / "locks"))
    with claim_device(device_count=1, cuda_available=True, timeout=0) as c:
        assert c.lock_path == tmp_path / "locks" / "gpu0.lock"


def test_peak_memory_cpu():
    assert peak_memory_mb("cpu") > 1
