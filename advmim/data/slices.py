"""Training data: 2D slice datasets held in memory, SSL4MIS augmentation and infinite batch streams.

Augmentation recipes (``training.augmentation``): ``ssl4mis``, SSL4MIS's ``RandomGenerator`` as
its published baselines ran it (before its 2025 change): with p=0.5 a random rot90 + flip,
otherwise with p=0.5 a random rotation by an integer angle in [-20, 20) degrees (so p=0.25
overall); ``rotate``, the AdvMIM authors' ``RandomGenerator`` (its rot90 + flip branch is
disabled by ``random() > 1.5``): always the random rotation. Then a zoom to ``img_size``; labels
always use nearest-neighbour (order 0). All randomness comes from a
per-item seed; the training loop draws batches with :class:`advmim.train.sampling.EpochSampler`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import h5py
import numpy as np
import torch
from scipy import ndimage
from torch.utils.data import Dataset

from advmim.data.splits import read_list, slice_patient
from advmim.data.ssl4mis import check_image, check_pair, slice_dir
from advmim.errors import InputError


def _read_h5(path: Path, with_label: bool = True) -> tuple[np.ndarray, np.ndarray | None, dict]:
    if not path.is_file():
        raise InputError(path, "h5 file not found")
    try:
        with h5py.File(path, "r") as f:
            image = np.asarray(f["image"], dtype=np.float32)
            label = np.asarray(f["label"]) if with_label else None  # check_pair: integers, in range
            attrs = dict(f.attrs)
    except KeyError as exc:
        raise InputError(path, f"missing dataset {exc}") from exc
    except OSError as exc:
        raise InputError(path, f"cannot read h5 (corrupt?): {exc}") from exc
    return image, label, attrs


def load_volume(
    data_dir: str | Path, case: str, num_classes: int | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float] | None]:
    """(image zyx float32, label zyx uint8, spacing zyx mm) of ``DATA/data/<case>.h5``, checked
    as every image is (:func:`advmim.data.ssl4mis.check_pair`: 3D, finite, not constant, labels
    below ``num_classes``).

    Spacing is None for data imported in the original SSL4MIS form, which does not store it.
    """
    path = Path(data_dir) / "data" / f"{case}.h5"
    image, label, attrs = _read_h5(path)
    image, label = check_pair(image, label, path, path, num_classes or 256)
    spacing = attrs.get("spacing")
    return image, label, None if spacing is None else tuple(float(s) for s in spacing)


def labeled_slice_names(
    data_dir: str | Path, n_patients: int, draw_seed: int | None = None
) -> list[str]:
    """Slices of the labeled patients: ``labeled/<N>.list``, or a seeded random draw of N
    training patients when ``draw_seed`` is given (robustness extension)."""
    data_dir = Path(data_dir)
    if draw_seed is None:
        return read_list(data_dir / "labeled" / f"{n_patients}.list")
    from advmim.data.splits import random_labeled_patients

    train_slices = read_list(data_dir / "train_slices.list")
    patients = list(dict.fromkeys(slice_patient(s) for s in train_slices))
    chosen = set(random_labeled_patients(patients, n_patients, draw_seed))
    return [s for s in train_slices if slice_patient(s) in chosen]


def unlabeled_slice_names(data_dir: str | Path, labeled: Sequence[str]) -> list[str]:
    """Training slices not in ``labeled``, in train_slices.list order."""
    taken = set(labeled)
    return [s for s in read_list(Path(data_dir) / "train_slices.list") if s not in taken]


RECIPES = ("ssl4mis", "rotate")


def augment_slice(
    image: np.ndarray,
    label: np.ndarray | None,
    rng: np.random.Generator,
    img_size: int,
    augment: bool = True,
    image_order: int = 0,
    recipe: str = "ssl4mis",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Augmentation ``recipe`` (see module doc) then zoom to ``img_size`` x ``img_size``."""
    if recipe not in RECIPES:
        raise ValueError(f"augmentation must be one of {', '.join(RECIPES)}, got {recipe!r}")
    if augment:
        if recipe == "ssl4mis" and rng.random() > 0.5:
            k, axis = int(rng.integers(0, 4)), int(rng.integers(0, 2))
            image = np.flip(np.rot90(image, k), axis=axis)
            label = None if label is None else np.flip(np.rot90(label, k), axis=axis)
        elif recipe == "rotate" or rng.random() > 0.5:
            angle = float(rng.integers(-20, 20))
            image = ndimage.rotate(image, angle, order=image_order, reshape=False)
            if label is not None:
                label = ndimage.rotate(label, angle, order=0, reshape=False)
    factors = (img_size / image.shape[0], img_size / image.shape[1])
    image = ndimage.zoom(image, factors, order=image_order)
    if label is not None:
        label = ndimage.zoom(label, factors, order=0)
    return np.ascontiguousarray(image, np.float32), (
        None if label is None else np.ascontiguousarray(label)
    )


class SliceDataset(Dataset):
    """2D slices ``DATA/data/slices/<name>.h5`` (or ``DATA/data/<name>.h5``, see
    :func:`advmim.data.ssl4mis.slice_dir`) loaded into memory at construction.

    ``dataset[i]`` uses a fixed per-item seed; ``dataset[(i, item_seed)]`` (what
    :func:`batch_stream` asks for) draws a fresh augmentation from ``item_seed``. Every slice is
    checked when loaded (2D, finite; labels below ``num_classes``), naming its file.
    """

    def __init__(
        self,
        data_dir: str | Path,
        names: Sequence[str],
        img_size: int,
        augment: bool = True,
        seed: int = 0,
        with_label: bool = True,
        image_order: int = 0,
        num_classes: int | None = None,
    ):
        if not names:
            raise InputError(data_dir, "no slices to load (empty list)")
        self.names = list(names)
        self.img_size, self.augment, self.seed = img_size, augment, seed
        self.with_label, self.image_order = with_label, image_order
        folder = slice_dir(data_dir)
        self.images, self.labels = [], []
        for name in self.names:
            path = folder / f"{name}.h5"
            image, label, _ = _read_h5(path, with_label)
            if label is None:  # the checks every image gets (2D, finite); a slice may be constant
                image = check_image(image, path, ndim=2, allow_constant=True)
            else:
                image, label = check_pair(image, label, path, path, num_classes or 256, ndim=2,
                                          allow_constant=True)
            self.images.append(image)
            self.labels.append(label)

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        index, item_seed = key if isinstance(key, tuple) else (int(key), None)
        rng = np.random.default_rng([self.seed, index] if item_seed is None else [item_seed])
        image, label = augment_slice(
            self.images[index],
            self.labels[index],
            rng,
            self.img_size,
            self.augment,
            self.image_order,
        )
        item = {"image": torch.from_numpy(image)[None], "index": index}
        if label is not None:
            item["label"] = torch.from_numpy(label.astype(np.int64))
        return item

