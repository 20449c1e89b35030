"""Dataset plug-ins: one :class:`DatasetPlugin` subclass per dataset, registered by name.

To add a dataset, write a module with a subclass decorated by ``@register`` that sets ``name``,
``num_classes`` and ``class_names`` (foreground classes) and implements ``convert(raw, out,
**opts)`` (raw download -> SSL4MIS form) and ``split(raw, **opts)``. For extra ``advmim convert
NAME`` options override ``add_convert_arguments`` and ``options_from_args``. Then add the module
to ``PLUGIN_MODULES`` so :func:`get_dataset` finds it.
"""

from __future__ import annotations

import argparse
import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from advmim.data.splits import Split

# Modules that register plug-ins when imported.
PLUGIN_MODULES: tuple[str, ...] = ("advmim.data.cardiac", "advmim.data.synapse", "advmim.data.promise12")

_REGISTRY: dict[str, DatasetPlugin] = {}


class DatasetPlugin(ABC):
    """A dataset: its classes, how to convert its raw files, and its patient split."""

    name: ClassVar[str]
    num_classes: ClassVar[int]  # including background
    class_names: ClassVar[tuple[str, ...]]  # foreground classes, label 1.. in order
    description: ClassVar[str] = ""
    # Where to get the raw data when the workflow cannot fetch it (bring your own data).
    data_hint: ClassVar[str] = ""
    # Whether converted volumes carry their voxel spacing (needed by ``strict`` metrics).
    stores_spacing: ClassVar[bool] = True
    # Generated splits: patients held out when dataset.split / --val / --test do not say (the one
    # place these defaults live; a fixed split, as ACDC's, has none).
    default_split: ClassVar[dict[str, int]] = {}

    def normalize_intensity(self, image: np.ndarray) -> np.ndarray:
        """The intensity normalisation of conversion, also applied by ``advmim predict``
        (default: per-volume min-max to [0, 1])."""
        from advmim.data.ssl4mis import normalize

        return normalize(image)

    @abstractmethod
    def split(self, raw: str | Path, **opts) -> Split:
        """The train/val/test patient split and labeled subsets."""

    @abstractmethod
    def convert(self, raw: str | Path, out: str | Path, **opts) -> Path:
        """Convert raw data to the SSL4MIS form in ``out``; returns ``out``."""

    def add_convert_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Add dataset-specific ``advmim convert NAME`` options (none by default)."""
        return None

    def options_from_args(self, args: argparse.Namespace) -> dict:
        """The ``convert`` keyword options from parsed CLI arguments."""
        return {}


def register(cls: type[DatasetPlugin]) -> type[DatasetPlugin]:
    """Class decorator: register one instance of ``cls`` under ``cls.name``."""
    if len(cls.class_names) != cls.num_classes - 1:
        raise TypeError(
            f"{cls.__name__}: class_names must list the {cls.num_classes - 1} foreground classes"
        )
    _REGISTRY[cls.name] = cls()
    return cls


def _load_plugins() -> None:
    for module in PLUGIN_MODULES:
        importlib.import_module(module)


def dataset_names() -> list[str]:
    """Names of all registered datasets."""
    _load_plugins()
    return sorted(_REGISTRY)


def get_dataset(name: str) -> DatasetPlugin:
    """The plug-in registered as ``name``; a ConfigError lists the valid names otherwise."""
    from advmim.errors import ConfigError

    _load_plugins()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown dataset {name!r}; valid: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]
