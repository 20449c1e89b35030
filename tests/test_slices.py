"""Training datasets: in-memory slices, SSL4MIS augmentation, infinite batch streams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from advmim.data.slices import (
    SliceDataset,
    augment_slice,
    labeled_slice_names,
    load_volume,
    unlabeled_slice_names,
)
from advmim.data.splits import read_list
from advmim.errors import InputError


@pytest.fixture(scope="module")
def labeled(phantom_data):
    return SliceDataset(phantom_data, labeled_slice_names(phantom_data, 1), img_size=32, seed=0)


def test_items_have_training_shapes_and_dtypes(labeled):
    item = labeled[0]
    assert item["image"].shape == (1, 32, 32) and item["image"].dtype == torch.float32
    assert item["label"].shape == (32, 32) and item["label"].dtype == torch.int64
    assert float(item["image"].min()) >= 0.0 and float(item["image"].max()) <= 1.0


def test_augmentation_is_deterministic_and_varies(labeled):
    a, b = labeled[(3, 123)], labeled[(3, 123)]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["label"], b["label"])
    assert torch.equal(labeled[3]["image"], labeled[3]["image"])
    variants = {labeled[(3, s)]["image"].numpy().tobytes() for s in range(12)}
    assert len(variants) > 3


def test_augmentation_keeps_label_values_and_alignment():
    rng = np.random.default_rng(0)
    image = rng.random((36, 36)).astype(np.float32)
    label = np.zeros((36, 36), np.uint8)
    label[10:30, 8:20], label[15:25, 20:30], label[5:8, 5:30] = 1, 3, 2
    image[label == 3] = 5.0  # a marker that must move with the label
    changed = 0
    for seed in range(20):
        out_image, out_label = augment_slice(image, label, np.random.default_rng(seed), 24)
        assert out_image.shape == out_label.shape == (24, 24)
        assert set(np.unique(out_label)) <= {0, 1, 2, 3} and out_label.dtype == np.uint8
        assert np.all(out_image[out_label == 3] == 5.0)
        same, _ = augment_slice(image, label, np.random.default_rng(seed), 36)
        changed += not np.array_equal(same, image)
    assert changed >= 10  # about 3 in 4 draws rotate or flip
    plain_image, plain_label = augment_slice(image, label, rng, 36, augment=False)
    assert np.array_equal(plain_image, image) and np.array_equal(plain_label, label)
    big_image, big_label = augment_slice(image, label, rng, 72, augment=False)
    assert np.array_equal(big_label[::2, ::2], label) and np.array_equal(
        big_image[1::2, 1::2], image
    )


def test_unlabeled_and_labeled_names_partition_training_slices(phantom_data):
    train = read_list(phantom_data / "train_slices.list")
    names = labeled_slice_names(phantom_data, 2)
    rest = unlabeled_slice_names(phantom_data, names)
    assert sorted(names + rest) == sorted(train) and not set(names) & set(rest)
    drawn = labeled_slice_names(phantom_data, 2, draw_seed=7)
    assert drawn == labeled_slice_names(phantom_data, 2, draw_seed=7)
    assert len({s.split("_")[0] for s in drawn}) == 2
    unlabeled = SliceDataset(phantom_data, rest, img_size=16, with_label=False)
    assert "label" not in unlabeled[0] and unlabeled[0]["image"].shape == (1, 16, 16)
    assert SliceDataset(phantom_data, rest, 16)[0]["label"].shape == (16, 16)
    with pytest.raises(InputError, match="labeled/3.list: list file not found"):
        labeled_slice_names(phantom_data, 3)
    with pytest.raises(InputError, match="nope_slice_0.h5: h5 file not found"):
        SliceDataset(phantom_data, ["nope_slice_0"], 16)


def test_load_volume(phantom_data):
    case = read_list(phantom_data / "val.list")[0]
    image, label, spacing = load_volume(phantom_data, case)
    assert image.dtype == np.float32 and label.dtype == np.uint8 and image.shape == label.shape
    assert image.ndim == 3 and len(spacing) == 3 and 5.0 <= spacing[0] <= 10.0
    with pytest.raises(InputError, match="h5 file not found"):
        load_volume(phantom_data, "patient999_frame01")
