"""User-facing errors: one clear message naming the file and the problem."""

from __future__ import annotations

from pathlib import Path


class AdvmimError(Exception):
    """An error caused by bad input or configuration; the CLI prints it without a traceback."""


class InputError(AdvmimError):
    """A bad input file: the message always names the file."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(AdvmimError):
    """A configuration that cannot be run; raised before any job starts."""
