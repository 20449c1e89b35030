"""Convert a raw dataset (e.g. RAW/database from ``advmim phantom`` or ``advmim download``) to the
SSL4MIS form: DATA/data/<case>.h5, DATA/data/slices/, the split lists and DATA/dataset.json.

DATA is written whole (staged, swapped into place at the end); a non-empty DATA that
``advmim convert`` did not write is refused unless ``--overwrite``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "convert"
HELP = "convert raw data to the SSL4MIS form (h5 volumes, slices, split lists)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from advmim.data.registry import dataset_names, get_dataset

    sub = parser.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    usages = []
    for name in dataset_names():
        plugin = get_dataset(name)
        p = sub.add_parser(name, help=plugin.description, description=plugin.description,
                           formatter_class=parser.formatter_class)
        p.add_argument(
            "--raw",
            required=True,
            type=Path,
            metavar="DIR",
            help="raw folder holding training/patientXXX/ (RAW/database)",
        )
        p.add_argument(
            "--out", required=True, type=Path, metavar="DIR", help="output folder (SSL4MIS form)"
        )
        p.add_argument(
            "--overwrite",
            action="store_true",
            help="replace DIR whole even if it holds files this command did not write",
        )
        plugin.add_convert_arguments(p)
        usages.append(" ".join(p.format_usage().split()[1:]))
    parser.epilog = "each dataset's options (advmim convert DATASET --help says what they mean):\n" + \
        "\n".join(f"  {usage}" for usage in usages)


def run(args: argparse.Namespace) -> int:
    from advmim.data.registry import get_dataset
    from advmim.io import check_outputs, staged_dir

    plugin = get_dataset(args.dataset)
    options = plugin.options_from_args(args)
    check_outputs(folders=[args.out], inputs=[args.raw], whole=True)
    with staged_dir(args.out, NAME, overwrite=args.overwrite) as stage:
        plugin.convert(args.raw, stage, **options)
    print(f"converted {args.dataset} to {args.out}")
    return 0
