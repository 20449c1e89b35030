"""Segment NIfTI volumes with a trained run.

  advmim predict --model RUN/model.pt IN.nii.gz OUT.nii.gz [--network S|C]
  advmim predict --model RUN/model.pt --input-dir DIR --output-dir DIR2

The image gets the run's preprocessing (per-volume min-max to [0, 1]; Synapse: HU window), is
segmented slice by slice at the network size, and the labels are written as uint8 NIfTI with the
input's affine and header. Outputs are written atomically: never half-written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from advmim.errors import ConfigError

NAME = "predict"
HELP = "segment NIfTI volumes with a trained model.pt"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, type=Path, help="RUN/model.pt of a finished run (or the run folder RUN)")
    parser.add_argument("files", nargs="*", type=Path, metavar="IN OUT", help="input and output NIfTI")
    parser.add_argument("--input-dir", type=Path, metavar="DIR", help="segment every NIfTI in DIR")
    parser.add_argument("--output-dir", type=Path, metavar="DIR", help="where batch outputs go")
    parser.add_argument("--network", help="network of a multi-network run (AdvMIM: S or C)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="where the network runs (auto: a GPU when present)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace outputs that exist already (default: refuse them)")


def run(args: argparse.Namespace) -> int:
    import torch

    from advmim.predict import Predictor

    batch = args.input_dir is not None or args.output_dir is not None
    if batch and (args.files or args.input_dir is None or args.output_dir is None):
        raise ConfigError("batch mode needs --input-dir and --output-dir and no IN/OUT files")
    if not batch and len(args.files) != 2:
        raise ConfigError("give IN.nii.gz OUT.nii.gz, or --input-dir DIR --output-dir DIR2")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda but no CUDA device is available")
    device = None if args.device == "auto" else torch.device(args.device)
    predictor = Predictor(args.model, args.network, device, overwrite=args.overwrite)
    if batch:
        outputs = predictor.predict_dir(args.input_dir, args.output_dir)
    else:
        outputs = [predictor.predict_file(*args.files)]
    for path in outputs:
        print(f"wrote {path} (network {predictor.network})")
    return 0
