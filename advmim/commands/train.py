"""Train one run (one method, labeled subset and seed) on preprocessed data.

Resumes from RUN/ckpt/last.pt when an interrupted run left one there.
"""

from __future__ import annotations

import json
from pathlib import Path

from advmim.commands import positive_int
from advmim.errors import ConfigError, OutputError

NAME = "train"
HELP = "train one method on one labeled subset and seed"


def add_arguments(parser):
    parser.add_argument("--data", required=True, type=Path, help="preprocessed data folder (SSL4MIS form)")
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--settings", help="run settings as a JSON object (see advmim.config.run_settings)")
    src.add_argument("--settings-file", type=Path, help="run settings as a JSON file")
    parser.add_argument("--out", required=True, type=Path, help="run folder (model.pt, train_log.csv, ...)")
    parser.add_argument("--device", default=None, help="override settings: auto | cpu | cuda")
    parser.add_argument("--threads", type=positive_int, default=None, help="override settings: CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")


def parse_settings(args) -> dict:
    try:
        text = args.settings if args.settings is not None else args.settings_file.read_text()
        settings = json.loads(text)
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read run settings: {exc}") from exc
    if not isinstance(settings, dict):
        return settings  # check_settings names the problem
    if args.device:
        settings["device"] = args.device
    if args.threads is not None:
        settings["threads"] = args.threads
    return settings


def run(args) -> int:
    from advmim.io import check_outputs
    from advmim.train.device import claim_training_device
    from advmim.train.loop import check_settings, train
    from advmim.train.runlock import LOCK_NAME, hold_run_folder

    settings = check_settings(parse_settings(args), str(args.settings_file or "--settings"))
    check_outputs(folders=[args.out], inputs=[args.data, args.settings_file])
    if (args.out.is_dir() and any(p.name != LOCK_NAME for p in args.out.iterdir())
            and not (args.out / "config.json").is_file()):
        raise OutputError(args.out, "folder is not empty and is not a run folder (no config.json); "
                                    "refusing to write into it (choose an empty folder)")
    with hold_run_folder(args.out), claim_training_device(settings["device"],
                                                          settings["gpu_jobs_per_device"]) as device:
        path = train(settings, args.data, args.out, device=device, progress=not args.no_progress)
    print(f"model written to {path}")
    return 0
