"""Shared fixtures: a tiny phantom in ACDC's raw layout and its SSL4MIS conversion (session-wide).

Treat both as read-only; copy them (``shutil.copytree``) before changing anything. Every session
also checks that nothing wrote into the shared data folder ``../shared`` (file list, sizes and
modification times unchanged at its end).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_data import SHARED, changed_paths, tree_state

TINY_PHANTOM = {"seed": 0, "patients": 6, "size": (48, 48), "slices": (3, 5)}
TINY_SPLIT = {"val": 1, "test": 1, "seed": 0, "labeled": [1, 2]}


@pytest.fixture(scope="session", autouse=True)
def shared_folder_unchanged():
    """Fail the session if any test wrote into ``../shared`` (the read-only real-data copy)."""
    if not SHARED.is_dir():
        yield
        return
    before = tree_state(SHARED)
    yield
    changed = changed_paths(before, tree_state(SHARED))
    assert not changed, f"the test suite changed {SHARED.resolve()}: {', '.join(changed[:10])}"


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


TINY_MODELS = {
    "unet": {"channels": [4, 8, 16, 32, 64]},
    "swin_unet": {
        "embed_dim": 12, "depths": [1, 1, 1, 1], "num_heads": [1, 1, 2, 2],
        "window_size": 4, "drop_path_rate": 0.0, "pretrained": None,
    },
}


@pytest.fixture
def tiny_settings():
    """``make(method, **overrides)``: run settings for a 32 px, few-iteration run on phantom_data."""
    import copy

    import yaml

    from advmim.config import run_settings

    base = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    base["training"].update(img_size=32, iterations=4, batch_labeled=2, batch_unlabeled=2,
                            checkpoint_every=2, threads=1, device="cpu")
    base["models"] = copy.deepcopy(TINY_MODELS)
    base["method_params"] = {"advmim": {"mask_block": 56}}  # 8 px at 32 px
    base["labeled_draws"] = "fixed"  # tests alter labeled/<N>.list's slices; per_seed: test_labeled_draws

    def make(method: str, labeled: int = 1, seed: int = 0, **training) -> dict:
        settings = run_settings(base, method, labeled, seed)
        settings.update(training)
        return settings

    return make
