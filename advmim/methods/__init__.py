"""Method registry: one module per method in this package, each registering a Method subclass;
what each method is (names, group, networks, parameters) is its card, written at the top of its
module (``CARDS``, :mod:`advmim.methods.catalog`) and read for built-ins without importing torch.

Methods defined outside the package register the same way: a module named in the
configuration's ``plugins:`` (an importable module name or a ``.py`` file path, loaded by
:func:`load_plugins`), or an installed distribution's entry point in the group
``advmim.methods`` (loaded with the built-ins). docs/adding-a-method.md has a complete example.

>>> from advmim.methods import get_method
>>> get_method("advmim").display_name
'AdvMIM'
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path

from advmim.errors import ConfigError
from advmim.methods.catalog import MethodCard, builtin_cards

__all__ = ["Batch", "Method", "MethodCard", "get_method", "load_plugins", "method_card",
           "method_names", "register"]
ENTRY_POINT_GROUP = "advmim.methods"

_CLASSES: dict[str, type] = {}     # registered Method classes (imported)
_CARDS: dict[str, MethodCard] = {}  # cards of methods defined outside the package
_ENTRY_POINTS_LOADED = False


def __getattr__(name: str):
    """``Batch`` and ``Method`` on first use: importing the registry does not import torch."""
    if name in ("Batch", "Method"):
        from advmim.methods import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register(name: str):
    """Class decorator adding a Method subclass to the registry under ``name``.

    One path for built-in and plug-in methods: the class's module defines the card named
    ``name`` in its ``CARDS``, and the class gets the card's values as class attributes.
    """

    def wrap(cls: type) -> type:
        if _CLASSES.get(name, cls) is not cls:
            raise ValueError(f"method {name!r} registered twice")
        builtin = builtin_cards().get(name)
        if builtin is not None and cls.__module__ != builtin.module:
            raise ValueError(f"method {name!r} is a built-in method; choose another name")
        cards = {c.name: c for c in getattr(sys.modules[cls.__module__], "CARDS", ())}
        if name not in cards:
            raise ValueError(f"method {name!r}: its module {cls.__module__} has no card for it "
                             f"(CARDS = (MethodCard({name!r}, ...),) at its top; "
                             "docs/adding-a-method.md)")
        card = replace(cards[name], module=cls.__module__)
        for attribute in MethodCard.ATTRIBUTES:
            setattr(cls, attribute, getattr(card, attribute))
        cls.name = name
        _CLASSES[name] = cls
        if builtin is None:
            _CARDS[name] = card
        return cls

    return wrap


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if not _ENTRY_POINTS_LOADED:
        _ENTRY_POINTS_LOADED = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except Exception as exc:  # a broken installed plug-in: say which one
                raise ConfigError(f"entry point {ep.name!r} ({ep.value}) of group "
                                  f"{ENTRY_POINT_GROUP}: cannot load it: {exc}") from exc


def _import_file(path: Path):
    """Import a ``.py`` file as a module (once per resolved path)."""
    name = f"advmim_plugin_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def resolve_plugin(spec: str) -> str:
    """A plug-in as stored in run settings: a file path made absolute, a module name as is."""
    return str(Path(spec).resolve()) if spec.endswith(".py") else spec


def load_plugins(specs) -> None:
    """Import each plug-in (module name or ``.py`` path) so that its methods register."""
    _load_entry_points()
    for spec in specs or []:
        try:
            if spec.endswith(".py"):
                path = Path(spec).resolve()
                if not path.is_file():
                    raise FileNotFoundError("file not found")
                _import_file(path)
            else:
                importlib.import_module(spec)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(f"plugins: cannot load {spec!r}: {exc}") from exc


def method_names() -> list[str]:
    """All known method names (built-in, plug-ins loaded, entry points), sorted."""
    _load_entry_points()
    return sorted({*builtin_cards(), *_CARDS})


def method_card(name: str) -> MethodCard:
    """The card of method ``name`` (torch-free for built-ins); a ConfigError lists the valid
    names otherwise."""
    if name in builtin_cards():
        return builtin_cards()[name]
    _load_entry_points()
    try:
        return _CARDS[name]
    except KeyError:
        raise ConfigError(f"unknown method {name!r}; valid methods: {', '.join(method_names())}") from None


def get_method(name: str) -> type:
    """The Method class registered as ``name`` (its module imported on first use)."""
    card = method_card(name)
    if name not in _CLASSES:
        importlib.import_module(card.module)
    return _CLASSES[name]
