"""Patient splits and list files (one name per line), including labeled subsets.

A labeled subset of N is the first N patients of the training order (SSL4MIS convention).
The shipped ACDC split lives in ``advmim/data/splits/acdc/*.list``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advmim.errors import ConfigError, InputError
from advmim.io import write_text

SHIPPED_SPLITS = Path(__file__).with_name("splits")


@dataclass(frozen=True)
class Split:
    """Patients per split; ``train`` is in labeling order, ``labeled`` maps N to its N patients."""

    train: tuple[str, ...]
    val: tuple[str, ...]
    test: tuple[str, ...]
    labeled: dict[int, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        everyone = [*self.train, *self.val, *self.test]
        if len(set(everyone)) != len(everyone):
            raise ConfigError("split has a patient in more than one of train/val/test")
        train = set(self.train)
        for n, patients in self.labeled.items():
            if len(patients) != n or not set(patients) <= train:
                raise ConfigError(f"labeled subset {n} must be {n} training patients")

    @property
    def patients(self) -> tuple[str, ...]:
        return (*self.train, *self.val, *self.test)

    def split_of(self, patient: str) -> str:
        for name in ("train", "val", "test"):
            if patient in getattr(self, name):
                return name
        raise KeyError(patient)


def read_list(path: str | Path) -> list[str]:
    """Non-empty stripped lines of a list file (a name listed twice is an error)."""
    from collections import Counter

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(path, "list file not found") from exc
    except NotADirectoryError:
        above = next(p for p in path.parents if p.exists())
        raise InputError(above, "is a file, not a folder (expected a preprocessed data folder "
                                "in SSL4MIS form: docs/architecture.md)") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a list file") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not a text file (byte {exc.start} is not UTF-8)") from exc
    names = [line.strip() for line in text.splitlines() if line.strip()]
    twice = [name for name, n in Counter(names).items() if n > 1]
    if twice:
        shown = ", ".join(twice[:5]) + (" ..." if len(twice) > 5 else "")
        raise InputError(path, f"{len(twice)} name(s) duplicated (listed more than once): {shown}")
    return names


def write_list(path: str | Path, names: Iterable[str]) -> None:
    """Atomically write one name per line."""
    write_text(path, "".join(f"{name}\n" for name in names))


def shipped_split(dataset: str) -> Split:
    """The fixed split shipped with the package (e.g. ``acdc``: 70/10/20, labeled 3/7/14)."""
    folder = SHIPPED_SPLITS / dataset
    if not folder.is_dir():
        raise ConfigError(f"no shipped split for dataset {dataset!r}")
    labeled = {n: tuple(read_list(folder / f"labeled_{n}.list")) for n in shipped_labeled_sizes(dataset)}
    return Split(
        train=tuple(read_list(folder / "train.list")),
        val=tuple(read_list(folder / "val.list")),
        test=tuple(read_list(folder / "test.list")),
        labeled=labeled,
    )


def shipped_labeled_sizes(dataset: str) -> tuple[int, ...]:
    """The labeled subset sizes a shipped split has lists for (``labeled_<N>.list``)."""
    paths = (SHIPPED_SPLITS / dataset).glob("labeled_*.list")
    return tuple(sorted(int(p.stem.removeprefix("labeled_")) for p in paths))


def random_split(
    patients: Sequence[str], n_val: int, n_test: int, seed: int, labeled: Sequence[int] = ()
) -> Split:
    """Seeded permutation of ``patients``: first ``n_val`` val, next ``n_test`` test, rest train."""
    patients = sorted(patients)
    n_train = len(patients) - n_val - n_test
    if n_val < 0 or n_test < 0 or n_train < 1:
        raise ConfigError(
            f"cannot split {len(patients)} patients into {n_val} val + {n_test} test + >=1 train"
        )
    order = [patients[i] for i in np.random.default_rng(seed).permutation(len(patients))]
    train = tuple(order[n_val + n_test :])
    too_many = [n for n in labeled if not 1 <= n <= n_train]
    if too_many:
        raise ConfigError(
            f"labeled counts {too_many} must be between 1 and {n_train} train patients"
        )
    return Split(
        train=train,
        val=tuple(order[:n_val]),
        test=tuple(order[n_val : n_val + n_test]),
        labeled={n: train[:n] for n in sorted(set(labeled))},
    )


def random_labeled_patients(train: Sequence[str], n: int, seed: int) -> list[str]:
    """A seeded random draw of ``n`` labeled training patients (robustness extension)."""
    if not 1 <= n <= len(train):
        raise ConfigError(f"cannot draw {n} labeled patients from {len(train)} training patients")
    picks = np.random.default_rng(seed).choice(len(train), size=n, replace=False)
    return [train[i] for i in sorted(picks)]


def slice_patient(slice_name: str) -> str:
    """``patient001_frame01_slice_3`` -> ``patient001``."""
    return slice_name.split("_", 1)[0]
