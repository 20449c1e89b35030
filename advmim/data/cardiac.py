"""Dataset plug-ins in ACDC's raw layout with ACDC's classes: ACDC itself and the phantom."""

from __future__ import annotations

import argparse
from pathlib import Path

from advmim.data.acdc import list_patients
from advmim.data.preprocess import convert_acdc_layout, training_dir
from advmim.data.registry import DatasetPlugin, register
from advmim.data.splits import Split, random_split, shipped_split


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

    def split(self, raw: str | Path, **opts) -> Split:
        return shipped_split("acdc")


@register
class Phantom(_CardiacLayout):
    """The synthetic cardiac phantom: ACDC layout, seeded random split."""

    name = "phantom"
    description = "synthetic cardiac phantom (advmim phantom), seeded random split"
    default_split = {"val": 2, "test": 6}

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
            labeled = [k for k in (3, 7, 14) if k <= n - val - test] or [1]
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
