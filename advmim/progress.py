"""Progress of one long step (download, convert, prepare, pretrain): a rich bar on a terminal;
elsewhere (a Snakemake log file, a pipe) a plain line on stderr at every tenth of the work and at
the end, with the amount done, the rate and the time left, so logs show how far a job got."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from advmim.signals import raise_if_pending

_UNIT_PREFIXES = ("", "k", "M", "G", "T")


def _amount(value: float, unit: str) -> str:
    """``12.3 MB`` for bytes (unit "B"), else ``16 patients``."""
    if unit != "B":
        number = f"{value:.0f}" if float(value).is_integer() or value >= 100 else f"{value:.3g}"
        return f"{number}{' ' + unit if unit else ''}"
    for prefix in _UNIT_PREFIXES:
        if abs(value) < 1000 or prefix == _UNIT_PREFIXES[-1]:
            return f"{value:.0f} B" if not prefix else f"{value:.1f} {prefix}B"
        value /= 1000
    raise AssertionError("unreachable")


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """``with Progress("convert phantom", total=32, unit="patients") as bar: bar.update(advance=1)``.

    ``total`` may be None (unknown, e.g. no Content-Length) or set later with ``update(total=)``;
    then plain lines come every ``unknown_every`` seconds. ``enabled=False`` shows nothing."""

    def __init__(self, description: str, total: float | None = None, *, unit: str = "",
                 completed: float = 0, enabled: bool = True, stream: TextIO | None = None,
                 step: float = 0.1, unknown_every: float = 10.0):  # fmt: skip
        self.description, self.total, self.unit = description, total, unit
        self.completed, self._advanced = completed, 0.0  # the rate counts what was advanced
        self.enabled, self.step, self.unknown_every = enabled, step, unknown_every
        self.stream = stream or sys.stderr
        self._bar = self._task = None
        self._t0 = self._last_time = time.monotonic()
        self._last_step = -1  # index of the last tenth printed
        self._printed_at: float | None = None

    def __enter__(self) -> Progress:
        if self.enabled and self.stream.isatty():
            self._bar = self._rich_bar()
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=self.total,
                                            completed=self.completed, info="")  # fmt: skip
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.enabled and exc[0] is None and self._printed_at != self.completed:
            self._line()

    def _rich_bar(self):
        from rich import progress as rp
        from rich.console import Console

        amount = [rp.DownloadColumn(), rp.TransferSpeedColumn()] if self.unit == "B" else [rp.MofNCompleteColumn()]
        return rp.Progress(rp.TextColumn("{task.description}"), rp.BarColumn(), *amount,
                           rp.TimeRemainingColumn(), rp.TextColumn("{task.fields[info]}"),
                           console=Console(file=self.stream))

    def update(self, *, completed: float | None = None, advance: float = 0,
               total: float | None = None, info: str = "") -> None:  # fmt: skip
        """Set or advance the amount done (and the total, once known); ``info`` (e.g. the loss)
        goes at the end of the line. A SIGTERM whose exception was swallowed is raised here."""
        raise_if_pending()
        if total is not None:
            self.total = total
        if completed is not None:
            self.completed = completed
        self.completed += advance
        self._advanced += advance
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(self._task, total=self.total, completed=self.completed, info=info)
            return
        now = time.monotonic()
        if self.total:
            tenth = int(min(self.completed / self.total, 1.0) / self.step + 1e-9)
            if tenth > self._last_step:
                self._last_step = tenth
                self._line(info)
        elif now - self._last_time >= self.unknown_every:
            self._last_time = now
            self._line(info)

    def _line(self, info: str = "") -> None:
        elapsed = max(time.monotonic() - self._t0, 1e-9)
        rate = self._advanced / elapsed
        done = _amount(self.completed, self.unit)
        parts = [f"{self.description}:"]
        if self.total:
            total = _amount(self.total, self.unit)
            amount = f"{done} / {total}" if self.unit == "B" else f"{_amount(self.completed, '')}/{total}"
            parts.append(f"{100 * self.completed / self.total:3.0f}% {amount},")
        else:
            parts.append(f"{done},")
        parts.append(f"{_amount(rate, self.unit)}/s,")
        left = (self.total - self.completed) / rate if self.total and rate > 0 else None
        parts.append(f"ETA {_duration(left)}" if left is not None else f"elapsed {_duration(elapsed)}")
        print(" ".join(parts) + (f" {info}" if info else ""), file=self.stream, flush=True)
        self._printed_at = self.completed
