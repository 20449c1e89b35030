"""What a run was trained on: a digest of the data folder's ``dataset.json`` and of every training
slice file the run reads. Checkpoints record it; resuming (or restoring a finished model) with
another ``--data`` folder is refused like resuming with other settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from advmim.errors import InputError

DATASET_FILE = "dataset.json"


def check_data_folder(data_dir: str | Path, num_classes: int) -> Path:
    """``data_dir`` is a folder whose ``dataset.json`` (when present) agrees on ``num_classes``."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise InputError(data_dir, "not a folder (expected a preprocessed data folder in SSL4MIS "
                                   "form: docs/architecture.md)")
    meta = data_dir / DATASET_FILE
    if meta.is_file():
        try:
            found = json.loads(meta.read_text(encoding="utf-8")).get("num_classes")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            raise InputError(meta, f"not a JSON object ({exc})") from exc
        if found is not None and found != num_classes:
            raise InputError(meta, f"the data has num_classes {found} but the run settings say "
                                   f"{num_classes}")
    return data_dir


def data_identity(data_dir: str | Path, slice_files: Iterable[Path]) -> str:
    """SHA-256 of ``dataset.json`` and of each slice file's name and bytes, in order."""
    data_dir = Path(data_dir)
    digest = hashlib.sha256()
    meta = data_dir / DATASET_FILE
    digest.update(meta.read_bytes() if meta.is_file() else b"")
    for path in slice_files:
        digest.update(f"\0{Path(path).name}\0".encode())
        try:
            digest.update(Path(path).read_bytes())
        except OSError as exc:
            raise InputError(path, f"cannot read ({exc.strerror or exc})") from exc
    return digest.hexdigest()
