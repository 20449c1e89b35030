"""Per-class Dice, Jaccard, HD95 and ASD of one predicted label volume against its ground truth.

PRED and GT are NIfTI (.nii, .nii.gz; read as (z, y, x) with spacing from the header zooms) or
SSL4MIS-form .h5 files (dataset "label", attribute "spacing" in (z, y, x) mm). ``paper`` mode
reports HD95 and ASD in voxels with the SSL4MIS/AdvMIM empty-mask rules; ``strict`` mode reports mm
with the ground truth's spacing (required) and excludes classes absent from the ground truth.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from advmim.data.geometry import check_same_grid_files
from advmim.errors import InputError
from advmim.metrics import MODES

NAME = "metrics"
HELP = "Dice/Jaccard/HD95/ASD per class of a predicted label volume against its ground truth (JSON)."
DEFAULT_CLASSES = ["RV", "Myo", "LV"]


def add_arguments(parser) -> None:
    parser.add_argument("pred", type=Path, help="predicted label volume (.nii, .nii.gz, .h5)")
    parser.add_argument("gt", type=Path, help="ground-truth label volume (.nii, .nii.gz, .h5)")
    parser.add_argument("--mode", choices=MODES, default="paper", help="metrics mode")
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--classes",
        nargs="+",
        metavar="NAME",
        help=f"foreground class names, label 1 first (default: {' '.join(DEFAULT_CLASSES)})",
    )
    group.add_argument(
        "--num-classes", type=int, metavar="N", help="number of classes including background"
    )


def read_labels(path: Path) -> tuple[np.ndarray, tuple[float, ...] | None]:
    """Read a label volume as an integer (z, y, x) array and its spacing (None if unknown)."""
    if not path.is_file():
        raise InputError(path, "file not found")
    name = path.name.lower()
    try:
        if name.endswith((".nii", ".nii.gz")):
            import nibabel as nib

            img = nib.load(str(path))
            data = np.asarray(img.dataobj).T
            spacing = tuple(float(z) for z in img.header.get_zooms()[: data.ndim])[::-1]
        elif name.endswith((".h5", ".hdf5")):
            import h5py

            with h5py.File(path, "r") as f:
                if "label" not in f:
                    raise InputError(path, "no 'label' dataset in this h5 file")
                data = f["label"][()]
                sp = f.attrs.get("spacing")
                spacing = None if sp is None else tuple(float(s) for s in np.ravel(sp))
        else:
            raise InputError(path, "unsupported file type (expected .nii, .nii.gz or .h5)")
    except InputError:
        raise
    except Exception as exc:
        raise InputError(path, f"cannot read label volume ({type(exc).__name__}: {exc})") from exc
    if not np.issubdtype(data.dtype, np.integer) and data.dtype != bool:
        if not np.all(np.isfinite(data)) or np.any(data != np.round(data)):
            raise InputError(path, f"labels must be whole numbers, got dtype {data.dtype}")
        data = data.astype(np.int64)
    if spacing is not None and len(spacing) != data.ndim:
        raise InputError(path, f"spacing {spacing} does not match the {data.ndim}-D labels")
    return data, spacing


def _check_range(path: Path, labels: np.ndarray, n: int) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        bad = np.unique(labels[(labels < 0) | (labels >= n)])[:5].tolist()
        raise InputError(path, f"label values {bad} outside 0..{n - 1} ({n} classes)")


def run(args) -> int:
    if args.num_classes is not None:
        if args.num_classes < 2:
            raise InputError(args.gt, f"--num-classes must be at least 2, got {args.num_classes}")
        classes = [str(i) for i in range(1, args.num_classes)]
    else:
        classes = list(args.classes or DEFAULT_CLASSES)
    pred, _ = read_labels(args.pred)
    gt, spacing = read_labels(args.gt)
    if pred.shape != gt.shape:
        raise InputError(
            args.pred, f"shape {pred.shape} differs from ground truth {args.gt} shape {gt.shape}"
        )
    check_same_grid_files(args.gt, args.pred)  # NIfTI/MetaImage: same affine and orientation
    for path, labels in ((args.pred, pred), (args.gt, gt)):
        _check_range(path, labels, len(classes) + 1)
    if args.mode == "strict" and spacing is None:
        raise InputError(
            args.gt,
            "strict mode needs the voxel spacing, but this file has none (an h5 without "
            "a 'spacing' attribute); use a NIfTI ground truth, add the attribute, or --mode paper",
        )
    if args.mode == "strict" and not all(np.isfinite(s) and s > 0 for s in spacing):
        raise InputError(args.gt, f"strict mode needs a positive voxel spacing, got {spacing}")
    from advmim.metrics import METRICS, aggregate, evaluate_volume  # scipy: only when this runs

    used = spacing if args.mode == "strict" else None
    result = evaluate_volume(pred, gt, classes, args.mode, spacing=used)
    out = {
        "pred": str(args.pred),
        "gt": str(args.gt),
        "mode": args.mode,
        "classes": classes,
        "spacing": list(used) if used else None,
        **{k: result[k] for k in (*METRICS, "status")},
        "mean": aggregate([result], classes, args.mode),
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
