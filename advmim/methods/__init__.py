"""Method registry: one module per method in this package, each registering a Method subclass.

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
import pkgutil
import sys
from importlib.metadata import entry_points
from pathlib import Path

from advmim.errors import ConfigError
from advmim.methods.base import Batch, Method

__all__ = ["Batch", "Method", "get_method", "load_plugins", "method_names", "register"]
ENTRY_POINT_GROUP = "advmim.methods"

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
        _LOADED = True
        for info in pkgutil.iter_modules(__path__):
            if info.name not in {"base", "parts"} and not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
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
    _load_all()
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
