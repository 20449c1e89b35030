"""A git revision of this repository checked out beside it, for before/after runs in one process
(torch-free: the Snakemake dry-run benchmark imports it)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def revision_tree(rev: str) -> Iterator[Path]:
    """A temporary detached git worktree of ``rev`` (removed afterwards)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                       check=True, capture_output=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)


def env_for(tree: Path) -> dict[str, str]:
    """This environment with ``tree``'s package first on the import path (one thread per job)."""
    return dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1")
