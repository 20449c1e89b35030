"""The ``advmim`` command line: one sub-command per module in :mod:`advmim.commands`.

Each module there defines ``NAME`` (the sub-command), ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. Modules are discovered, so adding a command is adding one file.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import signal
import sys
from collections.abc import Sequence

from advmim import __version__
from advmim.errors import AdvmimError
from advmim.host_memory import reuse_freed_memory
from advmim.signals import delivered, sigterm_raises


def _command_modules():
    import advmim.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"advmim.commands.{info.name}")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions as written (the commands' docstrings); every option's default shown, unless
    its help already speaks of it or it has none (None, False, [])."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (not action.option_strings or "default" in text or default is argparse.SUPPRESS
                or default is None or default is False or default == []):  # fmt: skip
            return text
        shown = " ".join(map(str, default)) if isinstance(default, list | tuple) else str(default)
        return f"{text} (default: {shown.replace('%', '%%')})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="advmim",
        description="AdvMIM benchmark: data, training, evaluation and tables for semi-supervised "
        "medical image segmentation.",
    )
    parser.add_argument("--version", action="version", version=f"advmim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__,
                           formatter_class=HelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    reuse_freed_memory()
    try:
        with sigterm_raises():
            status = int(args._run(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
            return status
    except AdvmimError as exc:
        print(f"advmim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `advmim methods | head -1`: the reader left; no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit flush too
        return 128 + signal.SIGPIPE
    except KeyboardInterrupt as exc:
        delivered()
        signum = getattr(exc, "signum", signal.SIGINT)
        detail = getattr(exc, "detail", "") or "no half-written output was left behind"
        print(f"advmim {args.command}: error: interrupted by {signal.Signals(signum).name}; "
              f"{detail}", file=sys.stderr)
        return 128 + signum


if __name__ == "__main__":
    sys.exit(main())
