"""Read 3D NIfTI volumes in (z, y, x) order, the order SimpleITK's ``GetArrayFromImage`` gives,
with spacing as (z, y, x) in millimetres from the header (any dataset, and ``advmim predict``)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from advmim.errors import InputError


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
