"""List the registered methods, or one method's parameters with defaults, allowed values and help."""

from __future__ import annotations

import sys

NAME = "methods"
HELP = "list the methods (built-in and plug-ins), or one method's parameters"


def add_arguments(parser):
    parser.add_argument("name", nargs="?", help="a method: show its parameters")
    parser.add_argument("--plugins", nargs="+", default=[],
                        help="plug-in modules or .py files to load first (as plugins: in a config)")


NETWORK_NAMES = {"unet": "U-Net", "swin_unet": "Swin-UNet"}  # architectures (method cards)


def _networks(card) -> str:
    """The reported networks by name, each with its table suffix: "Swin-UNet (S), U-Net (C)"."""
    arch = card.networks
    return ", ".join(NETWORK_NAMES.get(arch[key], arch[key]) + (f" ({suffix})" if suffix else "")
                     for key, suffix in card.reported.items())


def _allowed(rule) -> str:
    if rule is None:
        return ""
    if all(isinstance(r, str) for r in rule):
        return " | ".join(rule)
    return f"[{rule[0]}, {rule[1]}]"


def run(args) -> int:
    from rich.console import Console
    from rich.table import Table

    from advmim.methods import get_method, load_plugins, method_card, method_names

    load_plugins(args.plugins)
    console = Console()
    if args.name is None:
        table = Table(title="Methods (method_params: <name>: {...} sets their parameters)")
        for col in ("name", "table row", "group", "networks", "parameters"):
            table.add_column(col)
        for name in method_names():
            card = method_card(name)
            table.add_row(name, card.display_name, card.group, _networks(card),
                          str(len(card.default_params)))
        console.print(table)
        return 0
    cls = get_method(args.name)
    doc = (cls.__doc__ or sys.modules[cls.__module__].__doc__ or "").strip()
    title = f"{cls.name}: {cls.display_name} [{_networks(method_card(cls.name))}]"
    table = Table(title=title + (f" — {doc.splitlines()[0]}" if doc else ""))
    for col in ("parameter", "default", "allowed", "meaning"):
        table.add_column(col)
    for key, default in cls.default_params.items():
        table.add_row(key, repr(default), _allowed(cls.param_rules.get(key)), cls.param_help.get(key, ""))
    console.print(table)
    return 0
