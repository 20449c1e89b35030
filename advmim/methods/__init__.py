"""Method registry: one module per method in this package, each registering a Method subclass.

>>> from advmim.methods import get_method
>>> get_method("advmim").display_name
'AdvMIM'
"""

from __future__ import annotations

import importlib
import pkgutil

from advmim.errors import ConfigError
from advmim.methods.base import Batch, Method

__all__ = ["Batch", "Method", "get_method", "method_names", "register"]

_REGISTRY: dict[str, type[Method]] = {}
_LOADED = False


def register(name: str):
    """Class decorator adding a Method subclass to the registry under ``name``."""

    def wrap(cls: type[Method]) -> type[Method]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"method {name!r} registered twice")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def _load_all() -> None:
    global _LOADED
    if not _LOADED:
        for info in pkgutil.iter_modules(__path__):
            if info.name not in {"base", "parts"} and not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _LOADED = True


def method_names() -> list[str]:
    """All registered method names, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def get_method(name: str) -> type[Method]:
    """The Method class registered as ``name``; a ConfigError lists the valid names otherwise."""
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown method {name!r}; valid methods: {', '.join(sorted(_REGISTRY))}"
        ) from None
