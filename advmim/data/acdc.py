"""Read the official ACDC raw layout: ``training/patientXXX/{Info.cfg, *_frameYY.nii.gz, *_gt.nii.gz}``.

Arrays are returned in (z, y, x) order, the order SimpleITK's ``GetArrayFromImage`` gives, and
spacing as (z, y, x) in millimetres from the NIfTI header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advmim.data.nifti import load_nifti
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
