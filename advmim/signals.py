"""SIGTERM as an exception, delivered even when Python swallows it.

SIGTERM raises :class:`~advmim.errors.Interrupted` (like SIGINT's KeyboardInterrupt), so cleanup
handlers run. A signal handler's exception is raised in whatever code runs at that moment; when
that is a weakref or ``__del__`` callback, Python prints "Exception ignored" and goes on. The
signal is therefore also kept as pending, its swallowed exception is not printed, and
:func:`raise_if_pending` (called at every progress step of long work) raises it again until the
command's top level has reported it."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

from advmim.errors import Interrupted

_pending: list[int] = []


def _raise_interrupted(signum, frame):
    _pending.append(signum)
    raise Interrupted(signum)


def raise_if_pending() -> None:
    """Raise a signal whose first exception was swallowed (see the module docstring)."""
    if _pending:
        raise Interrupted(_pending[-1])


def delivered() -> None:
    """The interruption reached the command's top level: nothing is pending any more."""
    _pending.clear()


def _quiet_about_pending(hook):
    def unraisable(info):
        if not (isinstance(info.exc_value, Interrupted) and _pending):
            hook(info)

    return unraisable


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While active, SIGTERM raises :class:`Interrupted`."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    except ValueError:  # not the main thread
        yield
        return
    hook, sys.unraisablehook = sys.unraisablehook, _quiet_about_pending(sys.unraisablehook)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        sys.unraisablehook = hook
