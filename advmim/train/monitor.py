"""Watching a training run live: progress lines with an ETA, ``train_log.csv`` appended (and
flushed) row by row, TensorBoard event files (``tensorboard --logdir results/runs``).

Resume-safe: a resumed run rewrites ``train_log.csv`` with the checkpoint's rows before it
appends, and TensorBoard drops the events past the checkpoint (``purge_step``), so no iteration
appears twice. TensorBoard is imported when a run starts, never at start-up of the CLI.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from pathlib import Path

from advmim.io import write_text

LOG_FILE = "train_log.csv"
TENSORBOARD_DIR = "tensorboard"


def _header(rows: list[dict]) -> list[str]:
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    return keys


def write_log_csv(path: Path, rows: list[dict]) -> None:
    """``rows`` as a CSV file (columns: every key, in first-seen order), written atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=_header(rows))
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


class TrainLog:
    """``train_log.csv``: starts as ``rows`` (a resumed run's checkpoint rows), then one row per
    :meth:`append`, flushed at once; a row with a new column rewrites the file with it."""

    def __init__(self, path: Path, rows: list[dict]):
        self.path, self.rows = Path(path), rows
        self._file = self._writer = None
        self._rewrite()

    def _rewrite(self) -> None:
        self.close()
        write_log_csv(self.path, self.rows)
        self.keys = _header(self.rows)
        self._file = self.path.open("a", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._file, fieldnames=self.keys)

    def append(self, row: dict) -> None:
        """Add ``row`` (already in ``rows``, the list given) to the file."""
        if not self.keys or any(k not in self.keys for k in row):
            self._rewrite()
            return
        self._writer.writerow(row)
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TensorBoard:
    """Scalars of one run in ``run_dir/tensorboard``: every loss term and the LR per iteration
    (``train/<term>``) and validation Dice (``val/dice``)."""

    def __init__(self, log_dir: Path, start: int):
        from torch.utils.tensorboard import SummaryWriter

        # steps are iterations counted from 1: events of an earlier attempt from step start + 1
        # on (trained again now) are dropped
        self._writer = SummaryWriter(str(log_dir), purge_step=start + 1, flush_secs=20)

    def add(self, prefix: str, values: dict, step: int) -> None:
        for key, value in values.items():
            if key != "iteration":
                self._writer.add_scalar(f"{prefix}/{key}", value, step)

    def close(self) -> None:
        self._writer.close()


def eta(seconds: float) -> str:
    """``h:mm:ss`` of a remaining time."""
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Logger:
    """Progress on the terminal (rich bar) or plain lines with rate and ETA in a log file."""

    def __init__(self, total: int, start: int, title: str, enabled: bool = True):
        self.total, self.title, self.enabled = total, title, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.t0 = time.perf_counter()
        self.start = start
        self._progress = None
        if self.tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeRemainingColumn(), TextColumn("{task.fields[info]}"), transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(title, total=total, completed=start, info="")

    def update(self, iteration: int, losses: dict[str, float], lr: float) -> None:
        info = f"loss {losses.get('loss', float('nan')):.4f} lr {lr:.2e}"
        if self._progress is not None:
            self._progress.update(self._task, completed=iteration + 1, info=info)
        elif self.enabled and ((iteration + 1) % max(1, self.total // 20) == 0 or iteration + 1 == self.total):
            rate = (iteration + 1 - self.start) / max(time.perf_counter() - self.t0, 1e-9)
            left = eta((self.total - iteration - 1) / max(rate, 1e-9))
            self.line(f"it {iteration + 1}/{self.total} {info} ({rate:.1f} it/s, ETA {left})")

    def line(self, text: str) -> None:
        """One plain line (printed above the bar on a terminal)."""
        if self._progress is not None:
            self._progress.console.print(f"[{self.title}] {text}", markup=False, highlight=False)
        elif self.enabled:
            print(f"[{self.title}] {text}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
