"""Generate the synthetic cardiac phantom in ACDC's raw layout (RAW/database/training/patientXXX/).

Same seed and options give bitwise identical files. DIR is written whole (staged, swapped into
place at the end); a non-empty DIR that ``advmim phantom`` did not write is refused unless
``--overwrite``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "phantom"
HELP = "generate a synthetic cardiac cine-MRI phantom in ACDC's raw layout"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from advmim.config import schema_default
    from advmim.data.phantom import DEFAULT_SLICES

    default = {key: schema_default("dataset", "phantom", key) for key in ("patients", "seed", "size", "zoom")}

    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="raw folder; receives DIR/database/training/patientXXX/",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace DIR whole even if it holds files this command did not write",
    )
    # defaults: the workflow's (dataset.phantom in the configuration schema)
    parser.add_argument("--seed", type=int, default=default["seed"],
                        help=f"random seed (default: {default['seed']})")
    parser.add_argument("--patients", type=int, default=default["patients"],
                        help=f"number of patients (default: {default['patients']})")
    parser.add_argument(
        "--size",
        type=int,
        nargs="+",
        default=[default["size"]],
        metavar="PX",
        help="in-plane size in pixels: one value, or MIN MAX drawn per patient "
        f"and axis (default: {default['size']})",
    )
    parser.add_argument(
        "--zoom",
        type=float,
        nargs="+",
        default=default["zoom"],
        metavar="Z",
        help="field of view: draw on a canvas Z times the size and keep the window around the "
        "heart (1 = whole thorax); one value, or MIN MAX drawn per patient "
        f"(default: {' '.join(map(str, default['zoom']))})",
    )
    parser.add_argument(
        "--slices",
        type=int,
        nargs="+",
        default=list(DEFAULT_SLICES),
        metavar="N",
        help="slices per volume: one value or MIN MAX "
        f"(default: {DEFAULT_SLICES[0]} {DEFAULT_SLICES[1]})",
    )


def _range(values: list, option: str) -> tuple:
    from advmim.errors import ConfigError

    if len(values) not in (1, 2):
        raise ConfigError(f"{option} takes one value or MIN MAX, got {values}")
    return (values[0], values[-1])


def run(args: argparse.Namespace) -> int:
    from advmim.data.phantom import write_phantom
    from advmim.io import staged_dir

    size, slices = _range(args.size, "--size"), _range(args.slices, "--slices")
    zoom = _range(args.zoom, "--zoom")
    with staged_dir(args.out, NAME, overwrite=args.overwrite) as stage:
        write_phantom(stage, args.seed, args.patients, size, slices, zoom)
    print(f"wrote {args.patients} phantom patients to {args.out / 'database' / 'training'}")
    return 0
