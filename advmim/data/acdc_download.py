"""Fetch ACDC: download (or take a zip downloaded by hand), safely extract, keep the raw layout.

The download itself is :func:`advmim.download.download` (resumable, SHA-256 checked).
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from advmim.download import OfflineError, download, normalise_sha, sha256_file
from advmim.errors import InputError
from advmim.io import make_stage
from advmim.progress import Progress

ACDC_URL = (
    "https://humanheart-project.creatis.insa-lyon.fr/database/api/v1/folder/"
    "637218e573e9f0047faa00fc/download"
)
ACDC_ZIP_NAME = "acdc.zip"
_PATIENT = re.compile(r"patient\d{3}")
# Sane bounds on what a zip declares before it is unpacked: the ACDC NIfTI files are already
# gzip-compressed, so a member that inflates more than MAX_RATIO times is a zip bomb.
MAX_UNPACKED = 16 << 30
MAX_RATIO = 100


def _check_member(zip_path: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts:
        raise InputError(zip_path, f"unsafe member path {info.filename!r} (outside the archive)")
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        raise InputError(zip_path, f"member {info.filename!r} is a symbolic link; refused")


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def _check_sizes(zip_path: Path, infos: list[zipfile.ZipInfo], out_dir: Path) -> None:
    """Refuse an archive whose declared sizes are absurd or do not fit the free space."""
    for info in infos:
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise InputError(zip_path, f"member {info.filename!r} declares {info.file_size} bytes "
                                       f"from {info.compress_size} compressed (over {MAX_RATIO}:1, "
                                       "a zip bomb?); refused")
    total = sum(info.file_size for info in infos)
    if total > MAX_UNPACKED:
        raise InputError(zip_path, f"members declare {_gib(total)} unpacked, more than the "
                                   f"{_gib(MAX_UNPACKED)} an ACDC archive can need; refused")
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if total > free:
        raise InputError(zip_path, f"members declare {_gib(total)} unpacked but only {_gib(free)} "
                                   f"are free in {out_dir}; free space or choose another --out")


def _find_training(root: Path) -> Path | None:
    """The shallowest ``training`` folder below ``root`` holding ``patientXXX`` folders."""
    candidates = sorted(root.rglob("training"), key=lambda p: len(p.parts))
    for cand in candidates:
        if cand.is_dir() and any(p.is_dir() and _PATIENT.fullmatch(p.name) for p in cand.iterdir()):
            return cand
    return None


def extract_zip(zip_path: str | Path, out_dir: str | Path, *, progress: bool = False) -> Path:
    """Safely extract an ACDC zip into ``out_dir/database`` and return that folder.

    The zip is validated (corrupt, truncated or path-traversing archives are refused), unpacked
    into a hidden temporary sibling and renamed into place, so a failure leaves no partial tree.
    The ``training`` folder (``database/training`` in the official layout) may be nested at any
    depth; a ``testing`` folder beside it is kept too.
    """
    zip_path, out_dir = Path(zip_path), Path(out_dir)
    if not zip_path.is_file():
        raise InputError(zip_path, "file not found")
    target = out_dir / "database"
    if target.exists():
        raise InputError(target, "already exists; delete it to extract the archive again")
    if not zipfile.is_zipfile(zip_path):
        raise InputError(zip_path, "not a valid zip archive (corrupt or truncated download?)")
    try:
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                _check_member(zip_path, info)
            _check_sizes(zip_path, zf.infolist(), out_dir)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError(zip_path, f"corrupt zip archive ({exc})") from exc
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = make_stage(out_dir, "extract")
    try:
        try:
            with zipfile.ZipFile(zip_path) as zf, Progress(
                f"extract {zip_path.name}", sum(i.file_size for i in zf.infolist()), unit="B",
                enabled=progress,
            ) as bar:  # fmt: skip
                for info in zf.infolist():
                    zf.extract(info, stage / "raw")
                    bar.update(advance=info.file_size)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(zip_path, f"corrupt zip archive ({exc})") from exc
        training = _find_training(stage / "raw")
        if training is None:
            raise InputError(
                zip_path,
                "no training/patientXXX folders found; expected the official ACDC layout "
                "database/training/patient001/{Info.cfg, patient001_frame01.nii.gz, ...}",
            )
        database = stage / "database"
        database.mkdir()
        os.replace(training, database / "training")
        if (training.parent / "testing").is_dir():
            os.replace(training.parent / "testing", database / "testing")
        os.replace(database, target)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return target


def _has_patients(training: Path) -> bool:
    return training.is_dir() and any(_PATIENT.fullmatch(p.name) for p in training.iterdir())


def fetch_acdc(
    out_dir: str | Path,
    url: str = ACDC_URL,
    sha256: str | None = None,
    zip_path: str | Path | None = None,
    *,
    progress: bool = True,
    retries: int = 3,
    timeout: float = 30,
) -> Path:
    """Download (or take ``zip_path``) and extract ACDC; return ``out_dir/database``.

    Leaves ``out_dir/database/training/patientXXX/...``; does nothing if that already exists.
    A download is kept as ``out_dir/acdc.zip`` so a re-run resumes or reuses it.
    """
    out_dir = Path(out_dir)
    database = out_dir / "database"
    if _has_patients(database / "training"):
        return database
    if zip_path is not None:
        zip_path = Path(zip_path)
        if not zip_path.is_file():
            raise InputError(zip_path, "file not found (--zip expects the downloaded ACDC zip)")
        expected = normalise_sha(sha256)
        if expected is not None and (actual := sha256_file(zip_path)) != expected:
            raise InputError(zip_path, f"SHA-256 is {actual}, expected {expected}")
    else:
        zip_path = out_dir / ACDC_ZIP_NAME
        try:
            download(url, zip_path, sha256, progress=progress, retries=retries, timeout=timeout)
        except OfflineError as exc:
            raise OfflineError(
                f"{exc} and passed with `advmim download acdc --zip FILE --out {out_dir}`"
            ) from exc
    return extract_zip(zip_path, out_dir, progress=progress)
