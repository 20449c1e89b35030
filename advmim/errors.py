"""User-facing errors: one clear message naming the file and the problem."""

from __future__ import annotations

from pathlib import Path


class AdvmimError(Exception):
    """An error caused by bad input or configuration; the CLI prints it without a traceback."""


class FileError(AdvmimError):
    """An error about one file or folder: the message is ``<path>: <problem>``."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class InputError(FileError):
    """A bad input file: the message always names the file."""


class OutputError(FileError):
    """An output that cannot be written (not writable, disk full, would overwrite an input)."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM (or SIGINT) asked the command to stop; cleanup handlers still run."""

    def __init__(self, signum: int, detail: str = ""):
        import signal

        self.signum, self.detail = signum, detail
        super().__init__(signal.Signals(signum).name)


class ConfigError(AdvmimError):
    """A configuration that cannot be run; raised before any job starts."""
