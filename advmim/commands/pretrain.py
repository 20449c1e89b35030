"""Pretrain a Swin-UNet encoder by masked image modelling on a dataset's training images (no
labels): the file ``models.swin_unet.pretrained: mim`` resolves to (workflow rule pretrain_mim).
"""

from __future__ import annotations

from pathlib import Path

from advmim.commands import positive_int

NAME = "pretrain-mim"
HELP = "pretrain the Swin-UNet encoder by masked image modelling (SimMIM-style, no labels)"


def add_arguments(parser):
    parser.add_argument("--data", required=True, type=Path, help="preprocessed data folder (SSL4MIS form)")
    parser.add_argument("--settings", required=True,
                        help="pretraining settings as a JSON object (advmim.config.pretrain_settings)")
    parser.add_argument("--out", required=True, type=Path,
                        help="encoder checkpoint to write (and a .json summary beside it)")
    parser.add_argument("--threads", type=positive_int, default=None, help="override settings: CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")


def run(args) -> int:
    import json

    from advmim.errors import ConfigError
    from advmim.io import check_outputs
    from advmim.train.device import claim_training_device
    from advmim.train.pretrain import check_pretrain_settings, pretrain_mim

    try:
        settings = json.loads(args.settings)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"cannot read pretraining settings: {exc}") from exc
    if args.threads and isinstance(settings, dict):
        settings["threads"] = args.threads
    check_pretrain_settings(settings)
    check_outputs(files=[args.out, args.out.with_suffix(".json")], inputs=[args.data])
    with claim_training_device(settings["device"]) as device:
        path = pretrain_mim(settings, args.data, args.out, device=device, progress=not args.no_progress)
    print(f"encoder written to {path}")
    return 0
