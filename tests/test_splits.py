"""Shipped ACDC split, seeded phantom splits, list files and the dataset registry."""

from __future__ import annotations

import pytest

from advmim.data.registry import dataset_names, get_dataset
from advmim.data.splits import (
    Split,
    random_labeled_patients,
    random_split,
    read_list,
    shipped_split,
    write_list,
)
from advmim.errors import ConfigError, InputError

VAL = "028 085 082 087 019 030 078 045 002 039"
TEST = "011 013 084 033 093 022 068 024 083 081 080 001 007 066 008 065 075 064 059 052"
LABELED_14 = "099 038 050 100 058 021 049 020 072 040 060 089 004 056"


def _ids(text):
    return tuple(f"patient{i}" for i in text.split())


def test_acdc_split_matches_the_protocol():
    split = shipped_split("acdc")
    assert split.val == _ids(VAL) and split.test == _ids(TEST)
    assert len(split.train) == 70 and len(split.val) == 10 and len(split.test) == 20
    assert sorted(split.patients) == [f"patient{i:03d}" for i in range(1, 101)]
    assert split.train[:14] == _ids(LABELED_14)
    assert list(split.train[14:]) == sorted(split.train[14:])
    assert sorted(split.labeled) == [3, 7, 14]
    for n, patients in split.labeled.items():
        assert patients == split.train[:n]


def test_random_split_is_seeded_disjoint_and_complete():
    patients = [f"patient{i:03d}" for i in range(1, 21)]
    a = random_split(patients, 2, 4, seed=1, labeled=[3, 5])
    assert a == random_split(list(reversed(patients)), 2, 4, seed=1, labeled=[3, 5])
    assert a.train != random_split(patients, 2, 4, seed=2).train
    assert (len(a.val), len(a.test), len(a.train)) == (2, 4, 14)
    assert sorted(a.patients) == patients
    assert a.labeled == {3: a.train[:3], 5: a.train[:5]}
    assert a.split_of(a.val[0]) == "val"
    with pytest.raises(ConfigError, match="between 1 and 14"):
        random_split(patients, 2, 4, seed=1, labeled=[15])
    with pytest.raises(ConfigError, match="cannot split"):
        random_split(patients, 10, 10, seed=1)


def test_split_rejects_overlaps_and_bad_labeled_subsets():
    with pytest.raises(ConfigError, match="more than one"):
        Split(train=("a", "b"), val=("b",), test=())
    with pytest.raises(ConfigError, match="labeled subset 2"):
        Split(train=("a", "b"), val=(), test=(), labeled={2: ("a", "c")})


def test_random_labeled_draw_is_seeded():
    train = [f"p{i}" for i in range(30)]
    draw = random_labeled_patients(train, 5, seed=3)
    assert draw == random_labeled_patients(train, 5, seed=3) and len(set(draw)) == 5
    assert draw != random_labeled_patients(train, 5, seed=4)
    with pytest.raises(ConfigError):
        random_labeled_patients(train, 31, seed=0)


def test_list_files_round_trip_and_missing_file(tmp_path):
    write_list(tmp_path / "x.list", ["a", "b"])
    assert (tmp_path / "x.list").read_text() == "a\nb\n"
    assert read_list(tmp_path / "x.list") == ["a", "b"]
    with pytest.raises(InputError, match="x2.list: list file not found"):
        read_list(tmp_path / "x2.list")


def test_registry_knows_acdc_and_phantom():
    assert {"acdc", "phantom"} <= set(dataset_names())
    acdc = get_dataset("acdc")
    assert acdc.num_classes == 4 and acdc.class_names == ("RV", "Myo", "LV")
    assert acdc.split("unused") == shipped_split("acdc")
    with pytest.raises(ConfigError, match="unknown dataset 'nope'; valid: .*acdc.*phantom"):
        get_dataset("nope")


def test_phantom_default_split(phantom_raw):
    """Held-out sizes not given come from the plug-in's default_split (2 val, 6 test), the numbers
    config validation counts with; too many for 6 patients is a clear error."""
    plugin = get_dataset("phantom")
    assert plugin.default_split == {"val": 2, "test": 6}
    split = plugin.split(phantom_raw, test=1)
    assert (len(split.val), len(split.test), len(split.train)) == (2, 1, 3)
    assert sorted(split.labeled) == [3]
    with pytest.raises(ConfigError, match="2 val \\+ 6 test"):
        plugin.split(phantom_raw)
