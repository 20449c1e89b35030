"""Convert the ACDC raw layout (real or phantom) to the SSL4MIS form described in docs/architecture.md.

Every file is written atomically; ``dataset.json`` is removed first and written last, so an
output folder counts as complete only when it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from advmim.data.acdc import list_patients, parse_info, read_frame
from advmim.data.splits import Split
from advmim.data.ssl4mis import normalize, write_case, write_form
from advmim.errors import InputError
from advmim.io import check_names

PHASES = (("ED", "frame01"), ("ES", "frame02"))


def training_dir(raw: str | Path) -> Path:
    """``raw/training`` when it exists (raw = ``RAW/database``), else ``raw`` itself."""
    raw = Path(raw)
    for folder in (raw / "training", raw):
        if folder.is_dir():
            check_names(folder)
            if folder.name == "training" or list_patients(folder):
                if not list_patients(folder):
                    raise InputError(folder, "no patientXXX folders in it (empty training folder)")
                return folder
    raise InputError(raw, "no training/patientXXX folders found (expected RAW/database)")


def convert_patient(patient_dir: Path, data_dir: Path, num_classes: int) -> dict:
    """Write the ED/ES volumes and slices of one patient; returns its dataset.json entry."""
    info = parse_info(patient_dir / "Info.cfg")
    entry = {"group": info.group, "ed_frame": info.ed, "es_frame": info.es, "cases": {}}
    for phase, frame_name in PHASES:
        frame = info.ed if phase == "ED" else info.es
        volume = read_frame(patient_dir, frame, num_classes)
        case = f"{patient_dir.name}_{frame_name}"
        meta = write_case(data_dir, case, normalize(volume.image), volume.label, volume.spacing,
                          patient=patient_dir.name, frame=frame, phase=phase)
        entry["cases"][case] = {"phase": phase, "source_frame": frame, **meta}
    return entry


def convert_acdc_layout(
    raw: str | Path,
    out: str | Path,
    split: Split,
    *,
    name: str,
    num_classes: int,
    class_names: Sequence[str],
    extra: dict | None = None,
) -> Path:
    """Convert ``raw`` (ACDC layout) to the SSL4MIS form in ``out`` using ``split``; returns ``out``."""
    train_dir, out = training_dir(raw), Path(out)
    present = set(list_patients(train_dir))
    missing = [p for p in split.patients if p not in present]
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise InputError(train_dir, f"{len(missing)} patient(s) of the split are missing: {shown}")
    return write_form(
        out,
        split,
        lambda patient, data_dir: convert_patient(train_dir / patient, data_dir, num_classes),
        name=name,
        num_classes=num_classes,
        class_names=class_names,
        extra=extra,
    )
