"""Claim one compute device per training process.

Snakemake's ``--resources gpu=N`` only limits how many GPU jobs run at once; it never tells a
job *which* GPU to use. So a training process claims a device itself:

* no CUDA -> CPU;
* ``CUDA_VISIBLE_DEVICES`` already set (SLURM does this) -> ``cuda:0`` of the visible set,
  without locking: the scheduler already gave this job its device;
* otherwise -> a free slot among the visible devices, held by an exclusive ``fcntl.flock`` on
  ``<lock_dir>/gpu<i>.lock`` (``gpu<i>.slot<j>.lock`` for slot j > 0). Each device has
  ``jobs_per_device`` slots (``training.gpu_jobs_per_device``, default 1: one job per device);
  slots fill device by device in turn (slot 0 of every device, then slot 1, ...), so k jobs on
  n devices spread out evenly. The kernel drops the lock when the process exits or is killed, so
  a crashed job frees its slot (no stale pid files). When every slot is taken the claim polls
  until ``timeout`` and then raises :class:`DeviceBusyError`.

Forked children (e.g. DataLoader workers) share the lock until they exit.
"""

from __future__ import annotations

import fcntl
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from advmim.errors import AdvmimError

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

LOCK_DIR_ENV = "ADVMIM_GPU_LOCK_DIR"
TIMEOUT_ENV = "ADVMIM_GPU_WAIT_TIMEOUT"
DEFAULT_TIMEOUT = 6 * 3600.0


class DeviceBusyError(AdvmimError):
    """Every GPU stayed claimed by other processes until the timeout."""


def default_lock_dir() -> Path:
    """``$ADVMIM_GPU_LOCK_DIR`` or a per-user folder under /tmp."""
    env = os.environ.get(LOCK_DIR_ENV)
    return Path(env) if env else Path("/tmp") / f"advmim-gpu-locks-{os.getuid()}"


class DeviceClaim:
    """A claimed device; use as a context manager or call :meth:`release`."""

    def __init__(self, device: str, index: int | None, lock_path: Path | None = None,
                 fd: int | None = None, slot: int = 0):
        self.device_str = device
        self.index = index
        self.slot = slot
        self.lock_path = lock_path
        self._fd = fd

    @property
    def device(self) -> torch.device:
        import torch

        return torch.device(self.device_str)

    @property
    def locked(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Free the device lock (no-op for unlocked claims; safe to call twice)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DeviceClaim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"DeviceClaim({self.device_str!r}, lock={self.lock_path})"


def _try_lock(path: Path) -> int | None:
    """Open ``path`` and take an exclusive non-blocking flock; None if it is held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # informative only; the flock is what counts
    return fd


def lock_path(lock_dir: Path, index: int, slot: int = 0) -> Path:
    """The lock file of job slot ``slot`` on device ``index`` (slot 0: ``gpu<i>.lock``)."""
    return lock_dir / (f"gpu{index}.lock" if slot == 0 else f"gpu{index}.slot{slot}.lock")


def _parse_prefer(prefer: str) -> tuple[str, int | None]:
    """Split ``auto``/``cpu``/``cuda``/``cuda:N`` into kind and optional index."""
    p = prefer.strip().lower()
    if p in ("auto", "cpu", "cuda", "gpu"):
        return ("cuda" if p == "gpu" else p), None
    if p.startswith("cuda:") and p[5:].isdigit():
        return "cuda", int(p[5:])
    raise AdvmimError(f"device {prefer!r}: expected auto, cpu, cuda or cuda:N")


def claim_device(
    prefer: str = "auto",
    lock_dir: Path | None = None,
    *,
    timeout: float | None = None,
    poll: float = 0.5,
    device_count: int | None = None,
    cuda_available: bool | None = None,
    jobs_per_device: int = 1,
) -> DeviceClaim:
    """Claim a device following the rules in the module docstring.

    ``prefer``: ``auto`` (GPU if any, else CPU), ``cpu``, ``cuda`` (error without CUDA) or
    ``cuda:N`` (wait for exactly that index). ``timeout`` defaults to
    ``$ADVMIM_GPU_WAIT_TIMEOUT`` or 6 h. ``jobs_per_device``: slots per device. ``device_count``/
    ``cuda_available`` override what torch reports (for tests).
    """
    if jobs_per_device < 1:
        raise AdvmimError(f"gpu_jobs_per_device must be at least 1, got {jobs_per_device}")
    kind, want = _parse_prefer(prefer)
    real = cuda_available is None and device_count is None  # else injected (tests)
    if cuda_available is None or device_count is None:
        import torch

        if cuda_available is None:
            cuda_available = torch.cuda.is_available()
        if device_count is None:
            device_count = torch.cuda.device_count() if cuda_available else 0
    if kind == "cpu" or (kind == "auto" and (not cuda_available or device_count < 1)):
        return DeviceClaim("cpu", None)
    if not cuda_available or device_count < 1:
        raise AdvmimError(f"device {prefer!r} requested but CUDA is not available")

    if os.environ.get("CUDA_VISIBLE_DEVICES"):
        index = want or 0
        log.info("CUDA_VISIBLE_DEVICES=%s set: using cuda:%d without locking",
                 os.environ["CUDA_VISIBLE_DEVICES"], index)
        return _activate(DeviceClaim(f"cuda:{index}", index), real)

    candidates = [want] if want is not None else list(range(device_count))
    if want is not None and want >= device_count:
        raise AdvmimError(f"device {prefer!r}: only {device_count} CUDA device(s) visible")
    lock_dir = Path(lock_dir) if lock_dir is not None else default_lock_dir()
    lock_dir.mkdir(parents=True, exist_ok=True)
    if timeout is None:
        timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        for slot in range(jobs_per_device):
            for i in candidates:
                path = lock_path(lock_dir, i, slot)
                fd = _try_lock(path)
                if fd is not None:
                    log.info("claimed cuda:%d slot %d (lock %s)", i, slot, path)
                    return _activate(DeviceClaim(f"cuda:{i}", i, path, fd, slot), real)
        if time.monotonic() >= deadline:
            raise DeviceBusyError(
                f"all {len(candidates)} GPU(s) {candidates} x {jobs_per_device} job slot(s) stayed "
                f"claimed for {timeout:g} s (locks in {lock_dir}); raise {TIMEOUT_ENV} or run fewer "
                "GPU jobs at once (snakemake --resources gpu=N)")
        if not waited:
            log.info("all GPUs busy; waiting up to %g s", timeout)
            waited = True
        time.sleep(max(0.0, min(poll, deadline - time.monotonic())))


def _activate(claim: DeviceClaim, real: bool) -> DeviceClaim:
    """Make the claimed GPU torch's current device (skipped for injected fake devices)."""
    if real and claim.index is not None:
        import torch

        torch.cuda.set_device(claim.index)
    return claim


def peak_memory_mb(device: torch.device | str) -> float:
    """Peak memory in MiB: CUDA allocator peak on a GPU, process max RSS on CPU."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024
