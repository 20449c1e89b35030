"""Shared fixtures: a tiny phantom in ACDC's raw layout and its SSL4MIS conversion (session-wide).

Treat both as read-only; copy them (``shutil.copytree``) before changing anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_PHANTOM = {"seed": 0, "patients": 6, "size": (48, 48), "slices": (3, 5)}
TINY_SPLIT = {"val": 1, "test": 1, "seed": 0, "labeled": [1, 2]}


@pytest.fixture(scope="session")
def phantom_raw(tmp_path_factory) -> Path:
    """``RAW/database`` of a 6-patient, 48x48, 3-5 slice phantom (seed 0)."""
    from advmim.data.phantom import write_phantom

    return write_phantom(tmp_path_factory.mktemp("phantom_raw"), **TINY_PHANTOM)


@pytest.fixture(scope="session")
def phantom_data(phantom_raw, tmp_path_factory) -> Path:
    """``DATA`` in SSL4MIS form from ``phantom_raw``: 4 train / 1 val / 1 test, labeled 1 and 2."""
    from advmim.data.registry import get_dataset

    return get_dataset("phantom").convert(
        phantom_raw, tmp_path_factory.mktemp("phantom_data"), **TINY_SPLIT
    )
