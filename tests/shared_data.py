"""The read-only shared data folder beside the project (``../shared`` from its root) and a
snapshot of it, so the suite can prove it never writes there (conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / ".." / "shared"
# The public SSL4MIS-preprocessed ACDC copy (github:antares0811/3DCardiac @ 7dcd89c, data/ACDC);
# never copied into the repository.
SHARED_ACDC = SHARED / "data" / "ACDC"


def tree_state(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime in ns) of every file and folder under ``root`` (links not followed), and of
    ``root`` itself as ``"."``."""
    state = {".": (root.stat().st_size, root.stat().st_mtime_ns)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            state[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return state


def changed_paths(before: dict, after: dict) -> list[str]:
    """Paths added, removed, resized or touched between two :func:`tree_state` snapshots."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
