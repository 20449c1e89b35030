"""The SSL4MIS folder form: write it for any plug-in, and import an existing one as-is.

``write_form`` is the generic writer used by the bring-your-own-data plug-ins (Synapse,
PROMISE12): one call per case writes ``data/<case>.h5`` and its slices, then the split lists,
``labeled/<N>.list`` and, last, ``dataset.json``. ``prepare_ssl4mis`` validates a folder made by
the SSL4MIS scripts (no spacing, no ``labeled/`` lists, no ``dataset.json``) and adds the missing
files without touching its h5 files, in place or in a separate folder that links ``data/``. Both
layouts found in the wild are read: slices in ``data/slices/`` (SSL4MIS) or directly in ``data/``
beside the volumes (public copies); training volumes are never needed (training reads slices).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import h5py
import numpy as np

from advmim.data.splits import SHIPPED_SPLITS, Split, read_list, slice_patient, write_list
from advmim.errors import InputError
from advmim.io import write_bytes, write_json
from advmim.progress import Progress

REQUIRED_LISTS = ("train_slices.list", "val.list", "test.list")


def check_image(
    image: np.ndarray, path: str | Path, *, ndim: int = 3, allow_constant: bool = False
) -> np.ndarray:
    """A real-valued ``ndim``-D image with finite, non-constant intensities, as float32."""
    if image.ndim != ndim:
        raise InputError(path, f"expected a {ndim}D image, got shape {image.shape}")
    if not (np.issubdtype(image.dtype, np.integer) or np.issubdtype(image.dtype, np.floating)):
        raise InputError(path, f"image data type {image.dtype} is not a real number type")
    image = np.asarray(image, dtype=np.float32)
    if not np.all(np.isfinite(image)):
        raise InputError(path, "image contains NaN or infinite intensities")
    if not allow_constant and image.size and float(image.max()) <= float(image.min()):
        raise InputError(path, f"image is constant (value {float(image.min())}): empty volume")
    return image


def check_pair(
    image: np.ndarray,
    label: np.ndarray,
    image_path: str | Path,
    label_path: str | Path,
    num_classes: int,
    *,
    ndim: int = 3,
    allow_constant: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate an image/label pair; returns (image float32, label uint8) or raises InputError."""
    image = check_image(image, image_path, ndim=ndim, allow_constant=allow_constant)
    if label.shape != image.shape:
        raise InputError(
            label_path, f"label shape {label.shape} differs from image shape {image.shape}"
        )
    values = np.unique(np.asarray(label, dtype=np.float64))
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise InputError(label_path, "label contains non-integer values")
    bad = values[(values < 0) | (values >= num_classes)].astype(np.int64)
    if bad.size:
        raise InputError(label_path, f"label values {bad.tolist()} outside 0..{num_classes - 1}")
    return image, np.asarray(label).astype(np.uint8)


def read_h5_pair(path: str | Path) -> tuple[np.ndarray, np.ndarray, dict]:
    """Raw ``image`` and ``label`` arrays (stored dtypes) and attributes of an h5 file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "h5 file not found")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("image", "label") if k not in f]
            if missing:
                raise InputError(path, f"missing dataset(s) {', '.join(missing)}")
            return np.asarray(f["image"]), np.asarray(f["label"]), dict(f.attrs)
    except OSError as exc:
        raise InputError(path, f"cannot read h5 (corrupt or truncated?): {exc}") from exc


def normalize(image: np.ndarray) -> np.ndarray:
    """Per-volume min-max normalisation to [0, 1] as float32."""
    image = image.astype(np.float64)
    low, high = image.min(), image.max()
    return ((image - low) / (high - low)).astype(np.float32)


def write_h5(path: str | Path, image: np.ndarray, label: np.ndarray, **attrs) -> None:
    """Atomically write an h5 with gzip datasets ``image`` and ``label`` plus attributes.

    Built in memory and written with a plain write: HDF5 itself crashes (segfault) on a full disk.
    """
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_dataset("image", data=image, compression="gzip", track_times=False)
        f.create_dataset("label", data=label, compression="gzip", track_times=False)
        for key, value in attrs.items():
            f.attrs[key] = value
    write_bytes(path, buffer.getbuffer())


def write_case(
    data_dir: str | Path,
    case: str,
    image: np.ndarray,
    label: np.ndarray,
    spacing: Sequence[float] | None = None,
    **attrs,
) -> dict:
    """Write ``data/<case>.h5`` and its slices (image already normalised); returns its metadata."""
    data_dir = Path(data_dir)
    if spacing is not None:
        attrs["spacing"] = np.asarray(spacing, dtype=np.float64)
    write_h5(data_dir / f"{case}.h5", image, label, **attrs)
    for k in range(image.shape[0]):
        write_h5(data_dir / "slices" / f"{case}_slice_{k}.h5", image[k], label[k])
    meta = {"slices": int(image.shape[0]), "shape": list(image.shape)}
    if spacing is not None:
        meta["spacing"] = [float(s) for s in spacing]
    return meta


def _patient_info(result: dict) -> dict:
    return result if isinstance(result.get("cases"), dict) else {"cases": result}


def write_form(
    out: str | Path,
    split: Split,
    convert_patient: Callable[[str, Path], dict[str, dict]],
    *,
    name: str,
    num_classes: int,
    class_names: Sequence[str],
    extra: dict | None = None,
) -> Path:
    """Write the SSL4MIS form: ``convert_patient(patient, data_dir)`` writes one patient's cases
    (via :func:`write_case`) and returns ``{case: metadata}`` or a patient entry
    ``{"cases": {case: metadata}, ...}``; lists and dataset.json follow."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dataset.json").unlink(missing_ok=True)
    infos = {}
    with Progress(f"convert {name}", len(split.patients), unit="patients") as bar:
        for patient in split.patients:
            infos[patient] = _patient_info(convert_patient(patient, out / "data"))
            bar.update(advance=1)
    cases = {p: info["cases"] for p, info in infos.items()}

    def slices(patients):
        return [f"{c}_slice_{k}" for p in patients for c, m in cases[p].items() for k in range(m["slices"])]

    for split_name in ("train", "val", "test"):
        write_list(out / f"{split_name}.list", [c for p in getattr(split, split_name) for c in cases[p]])
    write_list(out / "train_slices.list", slices(split.train))
    for n, patients in split.labeled.items():
        write_list(out / "labeled" / f"{n}.list", slices(patients))
    patients = {p: {"split": split.split_of(p), **infos[p]} for p in split.patients}
    write_json(
        out / "dataset.json",
        {
            "name": name,
            "num_classes": num_classes,
            "class_names": list(class_names),
            "labeled": {str(n): list(p) for n, p in split.labeled.items()},
            **(extra or {}),
            "patients": patients,
        },
    )
    return out


# ----------------------------------------------------------------------------- import as-is


def slice_dir(folder: str | Path) -> Path:
    """Folder of the 2D slices of an SSL4MIS folder: ``data/slices/`` if present, else ``data/``."""
    data = Path(folder) / "data"
    return data / "slices" if (data / "slices").is_dir() else data


def _case_of_slice(name: str) -> str:
    case, sep, _ = name.rpartition("_slice_")
    return case if sep else name


def _check_files(
    folder: Path, names: Sequence[str], what: str, list_path: Path, hint: str = ""
) -> list[Path]:
    paths = [folder / f"{n}.h5" for n in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise InputError(
            list_path, f"{len(missing)} {what} named here not found in {folder}: {shown}{hint}"
        )
    return paths


def labeled_prefix(train_slices: Sequence[str], n: int, list_path: Path, plugin) -> list[str]:
    """The slices of the first ``n`` patients of ``train_slices`` (an SSL4MIS labeled subset),
    checked against the dataset ``plugin``'s SSL4MIS slice counts and shipped lists."""
    dataset = plugin.name
    order = list(dict.fromkeys(slice_patient(s) for s in train_slices))
    if n > len(order):
        raise InputError(list_path, f"{n} labeled patients asked but only {len(order)} are listed")
    chosen = set(order[:n])
    k = next((i for i, s in enumerate(train_slices) if slice_patient(s) not in chosen), len(train_slices))
    if any(slice_patient(s) in chosen for s in train_slices[k:]):
        raise InputError(list_path, f"slices of the first {n} patients are not contiguous at the top")
    expected = plugin.expected_labeled_slices.get(n)
    if expected is not None and k != expected:
        raise InputError(
            list_path,
            f"the first {n} patients ({', '.join(order[:n])}) have {k} slices; SSL4MIS's {dataset} "
            f"has {expected}: not the SSL4MIS train_slices.list (or its order was changed)",
        )
    shipped = SHIPPED_SPLITS / dataset / f"labeled_{n}.list"
    if shipped.is_file() and read_list(shipped) != order[:n]:
        raise InputError(
            list_path,
            f"the first {n} patients are {', '.join(order[:n])}, expected "
            f"{', '.join(read_list(shipped))} (the shipped {dataset} split)",
        )
    return list(train_slices[:k])


def validate_folder(src: str | Path, num_classes: int) -> dict[str, list[str]]:
    """Check an SSL4MIS folder: lists, files they name, datasets, shapes, label range.

    Returns the lists read (``train_slices``, ``train``, ``val``, ``test``).
    """
    src = Path(src)
    if not (src / "data").is_dir():
        raise InputError(src, "not an SSL4MIS folder: no data/ sub-folder")
    lists = {}
    for filename in REQUIRED_LISTS:
        lists[filename.removesuffix(".list")] = read_list(src / filename)
    if not lists["train_slices"]:
        raise InputError(src / "train_slices.list", "empty list")
    derived = list(dict.fromkeys(_case_of_slice(s) for s in lists["train_slices"]))
    lists["train"] = read_list(src / "train.list") if (src / "train.list").is_file() else derived
    slice_paths = _check_files(
        slice_dir(src), lists["train_slices"], "slice(s)", src / "train_slices.list",
        " (slices are read from data/slices/, or from data/ when there is no slices/ folder)",
    )
    volume_paths = [path for split_name in ("val", "test") for path in
                    _check_files(src / "data", lists[split_name], "volume(s)", src / f"{split_name}.list")]
    checks = [(path, {"ndim": 2, "allow_constant": True}) for path in slice_paths]
    checks += [(path, {}) for path in volume_paths]
    with Progress(f"check {src.name}", len(checks), unit="files") as bar:
        for path, rules in checks:
            image, label, _ = read_h5_pair(path)
            check_pair(image, label, path, path, num_classes, **rules)
            bar.update(advance=1)
    return lists


def _link_data(src: Path, out: Path) -> None:
    link, target = out / "data", (src / "data").resolve()
    if link.is_symlink() and link.resolve() == target:
        return
    if link.exists() or link.is_symlink():
        raise InputError(link, f"already exists and is not a link to {target}; remove it first")
    os.symlink(target, link, target_is_directory=True)


def _write_checked_list(path: Path, names: list[str]) -> None:
    if path.is_file() and read_list(path) != names:
        raise InputError(path, "already exists with different content; remove it to regenerate")
    write_list(path, names)


def prepare_ssl4mis(
    src: str | Path,
    out: str | Path | None = None,
    *,
    plugin,
    labeled: Sequence[int] | None = None,
) -> Path:
    """Validate an SSL4MIS folder and add ``labeled/<N>.list`` and ``dataset.json``.

    ``plugin``: the dataset plug-in whose classes and labeled checks apply; ``labeled``: the
    subset sizes (default: the plug-in's). With ``out`` (a different folder) the original is
    left entirely untouched: ``out/data`` links to ``src/data`` and the lists are written beside
    it. Returns the folder to train on.
    """
    dataset, class_names, num_classes = plugin.name, plugin.class_names, plugin.num_classes
    labeled = plugin.default_labeled if labeled is None else labeled
    src = Path(src)
    out = src if out is None else Path(out)
    lists = validate_folder(src, num_classes)
    subsets = {n: labeled_prefix(lists["train_slices"], n, src / "train_slices.list", plugin) for n in labeled}
    out.mkdir(parents=True, exist_ok=True)
    (out / "dataset.json").unlink(missing_ok=True)
    if out.resolve() != src.resolve():
        _link_data(src, out)
        for key in ("train_slices", "train", "val", "test"):
            write_list(out / f"{key}.list", lists[key])
    elif not (src / "train.list").is_file():
        write_list(src / "train.list", lists["train"])
    for n, names in subsets.items():
        _write_checked_list(out / "labeled" / f"{n}.list", names)
    patients: dict[str, dict] = {}
    for split_name in ("train", "val", "test"):
        for case in lists[split_name]:
            entry = patients.setdefault(slice_patient(case), {"split": split_name, "cases": {}})
            entry["cases"][case] = {}
    write_json(
        out / "dataset.json",
        {
            "name": dataset,
            "num_classes": num_classes,
            "class_names": list(class_names),
            "source": {"form": "ssl4mis", "dir": str(src.resolve())},
            "labeled": {str(n): list(dict.fromkeys(map(slice_patient, s))) for n, s in subsets.items()},
            "patients": patients,
        },
    )
    return out
