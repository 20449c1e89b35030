"""Read the official ACDC raw layout: ``training/patientXXX/{Info.cfg, *_frameYY.nii.gz, *_gt.nii.gz}``.

Arrays are returned in (z, y, x) order, the order SimpleITK's ``GetArrayFromImage`` gives, and
spacing as (z, y, x) in millimetres from the NIfTI header.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advmim.errors import InputError

PATIENT_PATTERN = re.compile(r"^patient\d{3}$")
REQUIRED_INFO_KEYS = ("ED", "ES")


@dataclass(frozen=True)
class PatientInfo:
    """The contents of one ``Info.cfg`` (ED/ES frame numbers, pathology group, metadata)."""

    patient: str
    ed: int
    es: int
    group: str = ""
    nb_frame: int | None = None
    height: float | None = None
    weight: float | None = None


@dataclass(frozen=True)
class Volume:
    """One 3D frame: image (z, y, x) float32, label (z, y, x) uint8, spacing (z, y, x) mm."""

    image: np.ndarray
    label: np.ndarray
    spacing: tuple[float, float, float]


def list_patients(training_dir: str | Path) -> list[str]:
    """Sorted ``patientXXX`` folder names in ``training_dir``."""
    training_dir = Path(training_dir)
    if not training_dir.is_dir():
        raise InputError(training_dir, "raw training folder not found")
    return sorted(
        p.name for p in training_dir.iterdir() if p.is_dir() and PATIENT_PATTERN.match(p.name)
    )


def parse_info(path: str | Path) -> PatientInfo:
    """Parse ``Info.cfg`` ("key: value" lines); ED and ES frame numbers are required."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "Info.cfg not found")
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    missing = [k for k in REQUIRED_INFO_KEYS if k not in values]
    if missing:
        raise InputError(path, f"missing {', '.join(missing)} frame number(s)")

    def number(key: str, kind: type):
        if key not in values or values[key] == "":
            return None
        try:
            return kind(float(values[key])) if kind is int else kind(values[key])
        except ValueError as exc:
            raise InputError(path, f"{key} is not a number: {values[key]!r}") from exc

    ed, es = number("ED", int), number("ES", int)
    for key, frame in (("ED", ed), ("ES", es)):
        if frame is None or frame < 1:
            raise InputError(path, f"{key} must be a frame number >= 1, got {values[key]!r}")
    return PatientInfo(
        patient=path.parent.name,
        ed=ed,
        es=es,
        group=values.get("Group", ""),
        nb_frame=number("NbFrame", int),
        height=number("Height", float),
        weight=number("Weight", float),
    )


def frame_paths(patient_dir: str | Path, frame: int) -> tuple[Path, Path]:
    """Image and ground-truth paths of one frame of one patient."""
    patient_dir = Path(patient_dir)
    stem = f"{patient_dir.name}_frame{frame:02d}"
    return patient_dir / f"{stem}.nii.gz", patient_dir / f"{stem}_gt.nii.gz"


def load_nifti(path: str | Path) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    """Read a 3D NIfTI: (z, y, x) array in its stored dtype, (z, y, x) spacing in mm, affine."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "file not found")
    import nibabel as nib  # here, not at import: every advmim command imports the plug-ins

    try:
        img = nib.load(path)
        data = np.asanyarray(img.dataobj)
        zooms = img.header.get_zooms()
        affine = np.asarray(img.affine, dtype=np.float64)
    except (
        OSError,
        EOFError,
        ValueError,
        gzip.BadGzipFile,
        nib.filebasedimages.ImageFileError,
    ) as exc:
        raise InputError(path, f"cannot read NIfTI (corrupt or truncated?): {exc}") from exc
    except Exception as exc:  # zlib.error and other decoder failures
        raise InputError(path, f"cannot read NIfTI: {type(exc).__name__}: {exc}") from exc
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise InputError(path, f"expected a 3D volume, got shape {data.shape}")
    spacing = tuple(float(s) for s in zooms[:3])
    if not all(np.isfinite(s) and s > 0 for s in spacing):
        raise InputError(path, f"invalid voxel spacing in header: {spacing}")
    # nibabel indexes (x, y, z); SimpleITK's array order is (z, y, x).
    zyx = np.ascontiguousarray(data.transpose(2, 1, 0))
    return zyx, (spacing[2], spacing[1], spacing[0]), affine


def read_nifti(path: str | Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Read a 3D NIfTI as a (z, y, x) array in its stored dtype plus (z, y, x) spacing in mm."""
    data, spacing, _ = load_nifti(path)
    return data, spacing


def read_frame(patient_dir: str | Path, frame: int, num_classes: int) -> Volume:
    """Read and validate one frame: finite non-constant image, integer labels in range, same
    shape, affine and orientation."""
    from advmim.data.geometry import check_same_grid

    image_path, label_path = frame_paths(patient_dir, frame)
    image, spacing, image_affine = load_nifti(image_path)
    label_raw, _, label_affine = load_nifti(label_path)
    image = image.astype(np.float32)
    if not np.all(np.isfinite(image)):
        raise InputError(image_path, "image contains NaN or infinite intensities")
    if float(image.max()) <= float(image.min()):
        raise InputError(
            image_path, f"image is constant (value {float(image.min())}): empty volume"
        )
    if label_raw.shape != image.shape:
        raise InputError(
            label_path, f"label shape {label_raw.shape} differs from image shape {image.shape}"
        )
    check_same_grid(image_affine, label_affine, image_path, label_path)
    label_float = np.asarray(label_raw, dtype=np.float64)
    if not np.all(np.isfinite(label_float)) or np.any(label_float != np.round(label_float)):
        raise InputError(label_path, "label contains non-integer values")
    values = np.unique(label_float).astype(np.int64)
    bad = values[(values < 0) | (values >= num_classes)]
    if bad.size:
        raise InputError(label_path, f"label values {bad.tolist()} outside 0..{num_classes - 1}")
    return Volume(image=image, label=label_float.astype(np.uint8), spacing=spacing)
