"""Use a folder made by the SSL4MIS preprocessing scripts as-is.

Checks it (every file the lists name exists, datasets ``image``/``label`` present, shapes agree,
labels within the dataset's classes) and adds what advmim needs: ``labeled/<N>.list`` (the first
N patients of ``train_slices.list``; for ACDC checked against 68/136/256 slices) and
``dataset.json``. The h5 files are never modified. With ``--out`` the original folder is not
touched at all: ``OUT/data`` links to it and the lists are written in OUT (staged, swapped
into place at the end; a non-empty OUT it did not write is refused unless ``--overwrite``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "prepare-ssl4mis"
HELP = "validate an existing SSL4MIS folder and add labeled lists + dataset.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from advmim.data.registry import ssl4mis_dataset

    parser.add_argument("src", type=Path, metavar="DIR", help="SSL4MIS folder (data/, *.list)")
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="write here (data/ linked) instead of into DIR"
    )
    parser.add_argument(
        "--overwrite", action="store_true",
        help="replace OUT whole even if it holds files this command did not write",
    )
    parser.add_argument("--dataset", default=ssl4mis_dataset(),
                        help=f"dataset plug-in (classes, labeled checks; default {ssl4mis_dataset()})")
    parser.add_argument(
        "--labeled",
        type=int,
        nargs="+",
        help="labeled subset sizes in patients (default: the dataset's, ACDC 3 7 14)",
    )


def run(args: argparse.Namespace) -> int:
    from advmim.data.registry import get_dataset
    from advmim.data.ssl4mis import prepare_ssl4mis
    from advmim.io import check_outputs, staged_dir

    plugin = get_dataset(args.dataset)
    labeled = args.labeled or plugin.default_labeled
    options = {"plugin": plugin, "labeled": labeled}
    if args.out is None or args.out.resolve() == args.src.resolve():
        check_outputs(folders=[args.src])  # in place: the lists are added to DIR
        out = prepare_ssl4mis(args.src, None, **options)
    else:
        check_outputs(folders=[args.out], inputs=[args.src], whole=True)
        with staged_dir(args.out, NAME, overwrite=args.overwrite) as stage:
            prepare_ssl4mis(args.src, stage, **options)
        out = args.out
    print(f"{args.src} checked; train on {out} (labeled subsets {' '.join(map(str, labeled))})")
    return 0
