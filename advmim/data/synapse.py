"""Synapse multi-organ CT (BTCV, MICCAI 2015) in the TransUNet form, bring your own data.

Layout read: ``RAW/train_npz/caseXXXX_sliceYYY.npz`` (2D ``image``/``label``, one file per
axial slice of the 18 training cases) and ``RAW/test_vol_h5/caseXXXX.npy.h5`` (3D ``image``/
``label`` (z, y, x), the 12 test cases below). In that form the CT is already clipped to
[-125, 275] HU and scaled to [0, 1]; conversion checks this and refuses anything else. No voxel
spacing is stored, so only ``paper`` (voxel) metrics apply. Training cases are stacked back into
volumes so every case has ``data/<case>.h5``.
"""

from __future__ import annotations

import argparse
import re
import zipfile
from pathlib import Path

import numpy as np

from advmim.data.registry import DatasetPlugin, register
from advmim.data.splits import Split
from advmim.errors import ConfigError, InputError

# TransUNet's test_vol.txt order.
TEST_CASES = (
    "case0008", "case0022", "case0038", "case0036", "case0032", "case0002",
    "case0029", "case0003", "case0001", "case0004", "case0025", "case0035",
)  # fmt: skip
HU_WINDOW = (-125.0, 275.0)
SLICE_FILE = re.compile(r"^(case\d{4})_slice(\d{3,4})\.npz$")
SCALE_TOLERANCE = 1e-3
DATA_HINT = (
    "Synapse needs an account: register at https://www.synapse.org/#!Synapse:syn3193805 "
    "(Multi-Atlas Labeling Beyond the Cranial Vault), get the TransUNet-preprocessed form "
    "(train_npz/caseXXXX_sliceYYY.npz, test_vol_h5/caseXXXX.npy.h5) and set dataset.raw_dir "
    "to the folder holding train_npz/ and test_vol_h5/"
)


def layout(raw: str | Path) -> tuple[Path, Path]:
    """(train_npz, test_vol_h5) folders of ``raw`` (or of ``raw/Synapse``)."""
    raw = Path(raw)
    for root in (raw, raw / "Synapse"):
        if (root / "train_npz").is_dir() and (root / "test_vol_h5").is_dir():
            return root / "train_npz", root / "test_vol_h5"
    raise InputError(raw, f"no train_npz/ and test_vol_h5/ folders found. {DATA_HINT}")


def _check_scaled(image: np.ndarray, path: Path) -> None:
    low, high = float(image.min()), float(image.max())
    if low < -SCALE_TOLERANCE or high > 1 + SCALE_TOLERANCE:
        raise InputError(
            path,
            f"intensities span [{low:g}, {high:g}], expected [0, 1]: the TransUNet form clips CT "
            f"to [{HU_WINDOW[0]:g}, {HU_WINDOW[1]:g}] HU and scales to [0, 1]",
        )


def read_npz_slice(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Raw (image, label) of one TransUNet training slice."""
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("image", "label") if k not in data.files]
            if missing:
                raise InputError(path, f"missing array(s) {', '.join(missing)}")
            return np.asarray(data["image"]), np.asarray(data["label"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(path, f"cannot read npz (corrupt or truncated?): {exc}") from exc


def training_slices(train_dir: Path) -> dict[str, list[Path]]:
    """Slice files per training case, in slice order; slice numbers must be 0..n-1."""
    from advmim.io import check_names

    check_names(train_dir)
    found: dict[str, dict[int, Path]] = {}
    for path in train_dir.iterdir():
        m = SLICE_FILE.match(path.name)
        if m:
            found.setdefault(m.group(1), {})[int(m.group(2))] = path
    if not found:
        raise InputError(train_dir, "no caseXXXX_sliceYYY.npz files found")
    cases = {}
    for case, by_index in sorted(found.items()):
        missing = sorted(set(range(max(by_index) + 1)) - set(by_index))
        if missing:
            raise InputError(train_dir, f"{case}: slice file(s) {missing[:5]} missing")
        cases[case] = [by_index[k] for k in sorted(by_index)]
    return cases


@register
class Synapse(DatasetPlugin):
    """Synapse multi-organ CT: 8 organs, fixed 12-case test split, seeded labeled subsets."""

    name = "synapse"
    num_classes = 9
    class_names = (
        "aorta", "gallbladder", "kidney_l", "kidney_r", "liver", "pancreas", "spleen", "stomach",
    )  # fmt: skip
    description = "Synapse multi-organ CT, TransUNet form (bring your own data)"
    stores_spacing = False  # the TransUNet form has no voxel spacing
    default_split = {"val": 0}  # the 12 test cases are fixed
    split_options = ("val", "seed")
    default_labeled = (1, 2, 4)
    data_hint = DATA_HINT
    TRAINING_CASES = 18  # TransUNet's training cases (the other 12 are the fixed test cases)

    def training_cases(self, ds: dict) -> int:
        return self.TRAINING_CASES - self.split_size(ds, "val")

    def split_size(self, ds: dict, split: str) -> int:
        return len(TEST_CASES) if split == "test" else super().split_size(ds, split)

    def normalize_intensity(self, image: np.ndarray) -> np.ndarray:
        """HU -> clip to [-125, 275] -> [0, 1] (the TransUNet form); for raw CT in predict."""
        low, high = HU_WINDOW
        return ((np.clip(image.astype(np.float64), low, high) - low) / (high - low)).astype(np.float32)

    def split(
        self, raw: str | Path, *, val: int | None = None, seed: int = 0, labeled: list[int] | None = None
    ) -> Split:
        val = self.default_split["val"] if val is None else val
        train_dir, _ = layout(raw)
        cases = sorted(training_slices(train_dir))
        overlap = sorted(set(cases) & set(TEST_CASES))
        if overlap:
            raise InputError(train_dir, f"test case(s) {overlap} found among the training slices")
        if not 0 <= val < len(cases):
            raise ConfigError(f"synapse: cannot hold out {val} of {len(cases)} training cases")
        order = [cases[i] for i in np.random.default_rng(seed).permutation(len(cases))]
        train = tuple(order[val:])
        labeled = [k for k in self.default_labeled if k <= len(train)] if labeled is None else labeled
        bad = [n for n in labeled if not 1 <= n <= len(train)]
        if bad:
            raise ConfigError(f"synapse: labeled {bad} must be between 1 and {len(train)} cases")
        return Split(
            train=train,
            val=tuple(order[:val]),
            test=TEST_CASES,
            labeled={n: train[:n] for n in sorted(set(labeled))},
        )

    def _convert_case(self, case: str, data_dir: Path, train: dict[str, list[Path]], test_dir: Path):
        from advmim.data.ssl4mis import check_pair, read_h5_pair, write_case

        if case in train:
            pairs = [read_npz_slice(p) for p in train[case]]
            for (image, label), path in zip(pairs, train[case], strict=True):
                check_pair(image, label, path, path, self.num_classes, ndim=2, allow_constant=True)
                _check_scaled(image, path)
            image = np.stack([p[0] for p in pairs]).astype(np.float32)
            label, source = np.stack([p[1] for p in pairs]), train[case][0].parent
        else:
            source = test_dir / f"{case}.npy.h5"
            image, label, _ = read_h5_pair(source)
            _check_scaled(image, source)
        image, label = check_pair(image, label, source, source, self.num_classes)
        return {case: write_case(data_dir, case, image, label, patient=case)}

    def convert(self, raw: str | Path, out: str | Path, **opts) -> Path:
        from advmim.data.ssl4mis import write_form

        train_dir, test_dir = layout(raw)
        split = self.split(raw, **opts)
        train = training_slices(train_dir)
        missing = [c for c in TEST_CASES if not (test_dir / f"{c}.npy.h5").is_file()]
        if missing:
            raise InputError(test_dir, f"test volume(s) {', '.join(c + '.npy.h5' for c in missing)} missing")
        return write_form(
            out,
            split,
            lambda case, data_dir: self._convert_case(case, data_dir, train, test_dir),
            name=self.name,
            num_classes=self.num_classes,
            class_names=self.class_names,
            extra={"source": {"form": "transunet", "hu_window": list(HU_WINDOW)}, "split_options": opts},
        )

    def add_convert_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--val", type=int, help="training cases held out for validation "
                            f"(default {self.default_split['val']})")
        parser.add_argument("--seed", type=int, default=0, help="seed of the training-case order")
        parser.add_argument("--labeled", type=int, nargs="+", help="labeled subset sizes in cases")

    def options_from_args(self, args: argparse.Namespace) -> dict:
        return {"val": args.val, "seed": args.seed, "labeled": args.labeled}
