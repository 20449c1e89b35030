"""Dataset plug-ins in ACDC's raw layout with ACDC's classes: ACDC itself and the phantom."""

from __future__ import annotations

import argparse
from pathlib import Path

from advmim.data.acdc import list_patients
from advmim.data.acdc_download import ACDC_URL, ACDC_ZIP_NAME, fetch_acdc
from advmim.data.preprocess import convert_acdc_layout, training_dir
from advmim.data.registry import DatasetPlugin, register
from advmim.data.splits import Split, random_split, shipped_labeled_sizes, shipped_split


class _CardiacLayout(DatasetPlugin):
    """Shared by datasets in ACDC's raw layout with ACDC's classes."""

    num_classes = 4
    class_names = ("RV", "Myo", "LV")

    def convert(self, raw: str | Path, out: str | Path, **opts) -> Path:
        split = self.split(raw, **opts)
        return convert_acdc_layout(
            raw,
            out,
            split,
            name=self.name,
            num_classes=self.num_classes,
            class_names=self.class_names,
            extra={"split_options": opts} if opts else None,
        )


@register
class ACDC(_CardiacLayout):
    """ACDC 2017 (Bernard et al., IEEE TMI 2018) with the fixed SSL4MIS split shipped here."""

    name = "acdc"
    description = "ACDC cardiac cine-MRI, fixed SSL4MIS split (70/10/20, labeled 3/7/14)"
    default_labeled = (3, 7, 14)
    download_url = ACDC_URL
    ssl4mis_default = True  # the SSL4MIS repository preprocessed ACDC
    # Slices of the first N labeled patients in SSL4MIS's ACDC train_slices.list (protocol.md).
    expected_labeled_slices = {3: 68, 7: 136, 14: 256}

    def split(self, raw: str | Path, **opts) -> Split:
        return shipped_split(self.name)

    def training_cases(self, ds: dict) -> int:
        return len(self.split("").train)

    def labeled_choices(self, ds: dict) -> tuple[int, ...] | None:
        """Converted from the raw data, only the shipped labeled lists exist; an SSL4MIS folder
        (``preprocessed_dir``) gets a list of any size (its first N patients)."""
        return None if ds.get("preprocessed_dir") else shipped_labeled_sizes(self.name)

    def held_out(self, ds: dict, split: str) -> None:
        return None  # the shipped lists (or the SSL4MIS folder's) decide

    def download(self, out: Path, **options) -> Path:
        return fetch_acdc(out, **options)

    def partial_download(self, out: Path) -> Path:
        return Path(out) / f"{ACDC_ZIP_NAME}.part"

    def raw_command(self, ds: dict) -> list[str]:
        """``advmim download acdc`` with ``dataset.download``'s URL and checksum."""
        download = ds.get("download", {})
        sha256 = ["--sha256", download["sha256"]] if download.get("sha256") else []
        url = download.get("url") or self.download_url
        return ["download", self.name, "--url", url, *sha256, "--no-progress"]


@register
class Phantom(_CardiacLayout):
    """The synthetic cardiac phantom: ACDC layout, seeded random split."""

    name = "phantom"
    description = "synthetic cardiac phantom (advmim phantom), seeded random split"
    default_split = {"val": 2, "test": 6}
    split_options = ("val", "test", "seed")
    default_labeled = (3, 7, 14)

    def training_cases(self, ds: dict) -> int:
        return ds["phantom"]["patients"] - self.split_size(ds, "val") - self.split_size(ds, "test")

    def raw_command(self, ds: dict) -> list[str]:
        """``advmim phantom`` with the configuration's ``dataset.phantom`` settings."""
        gen = ds["phantom"]
        return ["phantom", "--patients", str(gen["patients"]), "--seed", str(gen["seed"]),
                "--size", str(gen["size"]), "--zoom", *map(str, gen["zoom"])]

    def split(
        self,
        raw: str | Path,
        *,
        val: int | None = None,
        test: int | None = None,
        seed: int = 0,
        labeled: list[int] | None = None,
    ) -> Split:
        patients = list_patients(training_dir(raw))
        n = len(patients)
        val = self.default_split["val"] if val is None else val
        test = self.default_split["test"] if test is None else test
        if labeled is None:
            labeled = [k for k in self.default_labeled if k <= n - val - test] or [1]
        return random_split(patients, val, test, seed, labeled)

    def add_convert_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--val", type=int, help=f"validation patients (default {self.default_split['val']})")
        parser.add_argument("--test", type=int, help=f"test patients (default {self.default_split['test']})")
        parser.add_argument("--seed", type=int, default=0, help="seed of the patient permutation")
        parser.add_argument(
            "--labeled",
            type=int,
            nargs="+",
            help="labeled subset sizes in patients (default 3 7 14 that fit)",
        )

    def options_from_args(self, args: argparse.Namespace) -> dict:
        return {"val": args.val, "test": args.test, "seed": args.seed, "labeled": args.labeled}
