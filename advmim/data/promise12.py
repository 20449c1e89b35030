"""PROMISE12 prostate MRI (Litjens et al., MedIA 2014), bring your own data.

Raw layout: ``CaseXX.mhd`` (+ ``.raw``/``.zraw``) and ``CaseXX_segmentation.mhd`` for the 50
training cases, anywhere below RAW (the challenge ships them in TrainingData_Part1..3). Read with
SimpleITK in (z, y, x) order with spacing from the header; per-volume min-max to [0, 1]; one
foreground class (prostate); seeded patient split.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from advmim.data.registry import DatasetPlugin, register
from advmim.data.splits import Split, random_split
from advmim.errors import InputError

CASE_FILE = re.compile(r"^(Case\d{2})\.mhd$")
DATA_HINT = (
    "PROMISE12 needs a (free) registration at https://promise12.grand-challenge.org/ ; download "
    "the training data (TrainingData_Part1..3: CaseXX.mhd/.raw and CaseXX_segmentation.mhd) and "
    "set dataset.raw_dir to the folder holding them"
)


def find_cases(raw: str | Path) -> dict[str, Path]:
    """``{case: image .mhd}`` for every CaseXX.mhd below ``raw`` (sorted)."""
    raw = Path(raw)
    if not raw.is_dir():
        raise InputError(raw, f"PROMISE12 folder not found. {DATA_HINT}")
    from advmim.io import check_names

    for folder in (raw, *(p for p in raw.rglob("*") if p.is_dir())):
        check_names(folder)
    cases = {}
    for path in sorted(raw.rglob("Case*.mhd")):
        m = CASE_FILE.match(path.name)
        if m:
            if m.group(1) in cases:
                raise InputError(path, f"{m.group(1)} found twice (also {cases[m.group(1)]})")
            cases[m.group(1)] = path
    if not cases:
        raise InputError(raw, f"no CaseXX.mhd files found. {DATA_HINT}")
    return cases


def read_mhd(path: Path) -> tuple[np.ndarray, tuple[float, float, float], np.ndarray]:
    """A 3D MetaImage as a (z, y, x) array, (z, y, x) spacing in mm and its RAS affine."""
    import SimpleITK as sitk

    from advmim.data.geometry import mhd_affine

    if not path.is_file():
        raise InputError(path, "file not found")
    try:
        img = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise InputError(path, f"cannot read MetaImage (corrupt or missing .raw?): {message}") from exc
    if img.GetDimension() != 3 or img.GetNumberOfComponentsPerPixel() != 1:
        raise InputError(path, f"expected a 3D scalar volume, got size {img.GetSize()}")
    spacing = tuple(float(s) for s in reversed(img.GetSpacing()))
    affine = mhd_affine(img.GetDirection(), img.GetSpacing(), img.GetOrigin())
    return sitk.GetArrayFromImage(img), spacing, affine


@register
class Promise12(DatasetPlugin):
    """PROMISE12: 50 training cases, prostate vs background, seeded split."""

    name = "promise12"
    num_classes = 2
    class_names = ("prostate",)
    description = "PROMISE12 prostate MRI, seeded split (bring your own data)"
    default_split = {"val": 5, "test": 10}
    split_options = ("val", "test", "seed")
    default_labeled = (3, 7)
    data_hint = DATA_HINT
    TRAINING_CASES = 50  # the challenge's training cases (its test cases have no labels)

    def training_cases(self, ds: dict) -> int:
        return self.TRAINING_CASES - self.split_size(ds, "val") - self.split_size(ds, "test")

    def split(
        self,
        raw: str | Path,
        *,
        val: int | None = None,
        test: int | None = None,
        seed: int = 0,
        labeled: list[int] | None = None,
    ) -> Split:
        cases = list(find_cases(raw))
        val = self.default_split["val"] if val is None else val
        test = self.default_split["test"] if test is None else test
        n_train = len(cases) - val - test
        if labeled is None:
            labeled = [k for k in self.default_labeled if k <= n_train] or [1]
        return random_split(cases, val, test, seed, labeled)

    def _convert_case(self, case: str, data_dir: Path, images: dict[str, Path]) -> dict:
        from advmim.data.geometry import check_same_grid
        from advmim.data.ssl4mis import check_pair, write_case

        image_path = images[case]
        label_path = image_path.with_name(f"{case}_segmentation.mhd")
        image, spacing, image_affine = read_mhd(image_path)
        label, _, label_affine = read_mhd(label_path)
        image, label = check_pair(image, label, image_path, label_path, self.num_classes)
        check_same_grid(image_affine, label_affine, image_path, label_path)
        meta = write_case(
            data_dir, case, self.normalize_intensity(image), label, spacing, patient=case
        )
        return {case: meta}

    def convert(self, raw: str | Path, out: str | Path, **opts) -> Path:
        from advmim.data.ssl4mis import write_form

        images = find_cases(raw)
        return write_form(
            out,
            self.split(raw, **opts),
            lambda case, data_dir: self._convert_case(case, data_dir, images),
            name=self.name,
            num_classes=self.num_classes,
            class_names=self.class_names,
            extra={"split_options": opts},
        )

    def add_convert_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--val", type=int, help=f"validation cases (default {self.default_split['val']})")
        parser.add_argument("--test", type=int, help=f"test cases (default {self.default_split['test']})")
        parser.add_argument("--seed", type=int, default=0, help="seed of the case permutation")
        parser.add_argument("--labeled", type=int, nargs="+", help="labeled subset sizes in cases")

    def options_from_args(self, args: argparse.Namespace) -> dict:
        return {"val": args.val, "test": args.test, "seed": args.seed, "labeled": args.labeled}
