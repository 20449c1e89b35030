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

# Modules that register plug-ins when imported (this one holds acdc and phantom).
PLUGIN_MODULES: tuple[str, ...] = ("advmim.data.synapse", "advmim.data.promise12")

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

    def normalize_intensity(self, image: np.ndarray) -> np.ndarray:
        """The intensity normalisation of conversion, also applied by ``advmim predict``
        (default: per-volume min-max to [0, 1])."""
        from advmim.data.preprocess import normalize

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


class _CardiacLayout(DatasetPlugin):
    """Shared by datasets in ACDC's raw layout with ACDC's classes."""

    num_classes = 4
    class_names = ("RV", "Myo", "LV")

    def convert(self, raw: str | Path, out: str | Path, **opts) -> Path:
        from advmim.data.preprocess import convert_acdc_layout

        split = self.split(raw, **opts)
        return convert_acdc_layout(
            raw,
            out,
            split,
            name=self.name,
            num_classes=self.num_classes,
            class_names=self.class_names,
            extra={"split_options": opts} if opts else None,
        )


@register
class ACDC(_CardiacLayout):
    """ACDC 2017 (Bernard et al., IEEE TMI 2018) with the fixed SSL4MIS split shipped here."""

    name = "acdc"
    description = "ACDC cardiac cine-MRI, fixed SSL4MIS split (70/10/20, labeled 3/7/14)"

    def split(self, raw: str | Path, **opts) -> Split:
        from advmim.data.splits import shipped_split

        return shipped_split("acdc")


@register
class Phantom(_CardiacLayout):
    """The synthetic cardiac phantom: ACDC layout, seeded random split."""

    name = "phantom"
    description = "synthetic cardiac phantom (advmim phantom), seeded random split"

    def split(
        self,
        raw: str | Path,
        *,
        val: int | None = None,
        test: int | None = None,
        seed: int = 0,
        labeled: list[int] | None = None,
    ) -> Split:
        from advmim.data.acdc import list_patients
        from advmim.data.preprocess import training_dir
        from advmim.data.splits import random_split

        patients = list_patients(training_dir(raw))
        n = len(patients)
        val = max(1, round(0.1 * n)) if val is None else val
        test = max(1, round(0.2 * n)) if test is None else test
        if labeled is None:
            labeled = [k for k in (3, 7, 14) if k <= n - val - test] or [1]
        return random_split(patients, val, test, seed, labeled)

    def add_convert_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--val", type=int, help="validation patients (default 10%%)")
        parser.add_argument("--test", type=int, help="test patients (default 20%%)")
        parser.add_argument("--seed", type=int, default=0, help="seed of the patient permutation")
        parser.add_argument(
            "--labeled",
            type=int,
            nargs="+",
            help="labeled subset sizes in patients (default 3 7 14 that fit)",
        )

    def options_from_args(self, args: argparse.Namespace) -> dict:
        return {"val": args.val, "test": args.test, "seed": args.seed, "labeled": args.labeled}
