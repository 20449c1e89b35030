"""One writer per run folder: ``advmim train`` holds an exclusive lock on ``RUN/.advmim-train.lock``.

``flock`` locks belong to the open file and end with the process, so a crashed or killed holder
never leaves the folder locked; the file only records who holds it (pid, host, start time), for
the message a second writer gets.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from advmim.errors import OutputError

LOCK_NAME = ".advmim-train.lock"


@contextlib.contextmanager
def hold_run_folder(run_dir: str | Path) -> Iterator[Path]:
    """Hold ``run_dir`` (created if missing) for this process; OutputError naming the holder
    when another process holds it."""
    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(run_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError(run_dir, f"cannot create the run folder's lock ({exc.strerror or exc})") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another process"
            raise OutputError(run_dir, f"another `advmim train` is writing this run folder "
                                       f"({holder}); wait for it to end, or choose another --out") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
        yield run_dir
    finally:
        os.close(fd)  # releases the lock
