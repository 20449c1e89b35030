"""An image and its label must lie on the same voxel grid: same orientation, spacing and affine.

Affines are 4x4 voxel-to-world (RAS, mm) matrices: NIfTI's own, MetaImage's built from direction,
spacing and origin (LPS converted to RAS). A mismatch beyond :data:`AFFINE_ATOL` is one
:class:`~advmim.errors.InputError` naming the label file and, in its message, the image file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from advmim.errors import InputError

AFFINE_ATOL = 1e-3  # mm: float32 header round-off is far below, a real mismatch far above
SPACING_RTOL = 1e-4
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def axcodes(affine: np.ndarray) -> str:
    """Orientation of the voxel axes, e.g. ``"RAS"`` (nibabel's ``aff2axcodes``)."""
    import nibabel as nib

    return "".join(str(c) for c in nib.aff2axcodes(np.asarray(affine, dtype=np.float64)))


def mhd_affine(direction, spacing, origin) -> np.ndarray:
    """RAS affine of a SimpleITK image (``GetDirection``, ``GetSpacing``, ``GetOrigin``, x-first)."""
    n = len(spacing)
    lps = np.eye(4)
    lps[:n, :n] = np.asarray(direction, dtype=np.float64).reshape(n, n) * np.asarray(spacing)
    lps[:n, 3] = origin
    return _LPS_TO_RAS @ lps


def file_affine(path: str | Path) -> np.ndarray | None:
    """The affine in a file's header (NIfTI, MetaImage), or None for formats without one (h5)."""
    path = Path(path)
    name = path.name.lower()
    try:
        if name.endswith((".nii", ".nii.gz")):
            import nibabel as nib

            return np.asarray(nib.load(str(path)).affine, dtype=np.float64)
        if name.endswith(".mhd"):
            import SimpleITK as sitk

            reader = sitk.ImageFileReader()
            reader.SetFileName(str(path))
            reader.ReadImageInformation()
            return mhd_affine(reader.GetDirection(), reader.GetSpacing(), reader.GetOrigin())
    except Exception as exc:  # noqa: BLE001 - any header failure is a bad input file
        raise InputError(path, f"cannot read the header ({type(exc).__name__}: {exc})") from exc
    return None


def check_same_grid(
    image_affine: np.ndarray,
    label_affine: np.ndarray,
    image_path: str | Path,
    label_path: str | Path,
    *,
    atol: float = AFFINE_ATOL,
) -> None:
    """Raise an InputError on ``label_path`` (naming ``image_path`` too) unless the two affines
    describe the same grid: orientation, then spacing, then the whole affine."""
    a = np.asarray(image_affine, dtype=np.float64)
    b = np.asarray(label_affine, dtype=np.float64)
    where = str(image_path)
    if axcodes(a) != axcodes(b):
        raise InputError(
            label_path,
            f"orientation {axcodes(b)} differs from {axcodes(a)} of {where}: the two are "
            "flipped or have their axes permuted relative to each other",
        )
    sa, sb = np.linalg.norm(a[:3, :3], axis=0), np.linalg.norm(b[:3, :3], axis=0)
    if not np.allclose(sa, sb, rtol=SPACING_RTOL, atol=atol):
        raise InputError(
            label_path,
            f"voxel spacing {_fmt(sb)} mm differs from {_fmt(sa)} mm of {where}",
        )
    if not np.allclose(a, b, rtol=0, atol=atol):
        worst = float(np.max(np.abs(a - b)))
        raise InputError(
            label_path,
            f"affine differs from that of {where} by up to {worst:.4g} mm (origin or direction; "
            f"tolerance {atol:g} mm):\n  label {_rows(b)}\n  image {_rows(a)}",
        )


def check_same_grid_files(image_path: str | Path, label_path: str | Path) -> None:
    """:func:`check_same_grid` on the headers of two files; skipped if either has no affine."""
    a, b = file_affine(image_path), file_affine(label_path)
    if a is not None and b is not None:
        check_same_grid(a, b, image_path, label_path)


def _fmt(values: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.4g}" for v in values) + ")"


def _rows(affine: np.ndarray) -> str:
    return "[" + "; ".join(" ".join(f"{v:.4g}" for v in row) for row in affine[:3]) + "]"
