"""Dataset plug-ins: one :class:`DatasetPlugin` subclass per dataset, registered by name.

A plug-in answers every question about its dataset (nothing else in the package or the workflow
tests a dataset's name): its classes, training cases, valid labeled sizes, default split, the
``advmim convert NAME`` options and how its raw data is obtained (downloaded, generated or
brought by the user). To add a dataset, write a module with a subclass decorated by
``@register`` that sets ``name``, ``num_classes`` and ``class_names`` (foreground classes) and
implements ``convert(raw, out, **opts)`` (raw data -> SSL4MIS form), ``split(raw, **opts)`` and
``training_cases(ds)``; then add the module to ``PLUGIN_MODULES``. (A module outside the
package registers the same way once imported, e.g. named under the configuration's
``plugins:``, but only the listed modules reach the workflow's ``advmim convert`` job.)
docs/datasets.md lists every member; tests/test_dataset_plugins.py adds a toy dataset.
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
    # The ``dataset.split`` keys passed on to ``advmim convert NAME`` (none: a fixed split).
    split_options: ClassVar[tuple[str, ...]] = ()
    # Labeled subset sizes when none are given (``advmim prepare-ssl4mis``).
    default_labeled: ClassVar[tuple[int, ...]] = ()
    # Slices of the first N labeled cases in SSL4MIS's own lists, checked by prepare-ssl4mis.
    expected_labeled_slices: ClassVar[dict[int, int]] = {}
    # The dataset SSL4MIS's own preprocessing produced: ``advmim prepare-ssl4mis`` assumes it
    # when no --dataset is given (one plug-in at most).
    ssl4mis_default: ClassVar[bool] = False

    def training_cases(self, ds: dict) -> int | None:
        """Training cases the split of the configuration's ``dataset`` section leaves (None:
        only the data can tell)."""
        return None

    def labeled_choices(self, ds: dict) -> tuple[int, ...] | None:
        """The only valid ``labeled`` sizes (a dataset shipping fixed labeled lists), or None:
        any size up to :meth:`training_cases`."""
        return None

    def split_size(self, ds: dict, split: str) -> int | None:
        """``dataset.split.<split>`` (``val``, ``test``), else the plug-in's default."""
        given = ds.get("split", {}).get(split)
        return self.default_split.get(split) if given is None else given

    def held_out(self, ds: dict, split: str) -> int | None:
        """Cases in the ``val`` or ``test`` split (None when the data decides: a fixed split, or
        an existing SSL4MIS folder)."""
        return None if ds.get("preprocessed_dir") else self.split_size(ds, split)

    def convert_arguments(self, ds: dict, labeled: list[int]) -> list[str]:
        """``advmim convert NAME`` options for a configuration (its ``split_options`` and the
        labeled sizes; none for a fixed split)."""
        if not self.split_options:
            return []
        split = ds.get("split", {})
        options = [x for k, v in split.items() if k in self.split_options for x in (f"--{k}", str(v))]
        return [*options, "--labeled", *map(str, labeled)]

    # Where ``advmim download NAME`` fetches the raw data from (None: not public).
    download_url: ClassVar[str | None] = None

    def download(self, out: Path, **options) -> Path:
        """Fetch the raw data into ``out/database`` (``advmim download NAME``); returns it."""
        raise NotImplementedError(f"{self.name} has no download")

    def partial_download(self, out: Path) -> Path:
        """The ``.part`` file an interrupted :meth:`download` into ``out`` resumes from."""
        raise NotImplementedError(f"{self.name} has no download")

    def raw_command(self, ds: dict) -> list[str] | None:
        """The ``advmim`` arguments that write the raw data into ``--out DIR`` (a download, a
        generator), or None: the user brings it (``dataset.raw_dir``, see ``data_hint``)."""
        return None

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


def ssl4mis_dataset() -> str:
    """The dataset ``advmim prepare-ssl4mis`` assumes without ``--dataset``."""
    _load_plugins()
    return next(name for name, plugin in sorted(_REGISTRY.items()) if plugin.ssl4mis_default)


def get_dataset(name: str) -> DatasetPlugin:
    """The plug-in registered as ``name``; a ConfigError lists the valid names otherwise."""
    from advmim.errors import ConfigError

    _load_plugins()
    if name not in _REGISTRY:
        raise ConfigError(f"unknown dataset {name!r}; valid: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]
