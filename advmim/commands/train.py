"""Train one run (one method, labeled subset and seed) on preprocessed data.

By hand, as the workflow would: ``advmim train --configfile FILE [FILE ...] --method M
--labeled N --seed S`` merges the files over the embedded default config/config.yaml (as
Snakemake merges ``--configfile``) and builds the run's settings with the very function the
workflow uses (advmim.runs.job_settings); --out and --data default to the workflow's folders.
The workflow itself passes the settings as a file (--settings-file); --settings takes them as JSON.
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
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--configfile", nargs="+", type=Path, metavar="FILE",
                     help="workflow config(s), merged in order over the embedded default; "
                     "needs --method, --labeled, --seed")
    src.add_argument("--settings", help="run settings as a JSON object (see advmim.config.run_settings)")
    src.add_argument("--settings-file", type=Path, help="run settings as a JSON file")
    parser.add_argument("--method", metavar="RUN",
                        help="with --configfile: a method, or abl-<variant> for an ablation variant")
    parser.add_argument("--labeled", type=int, help="with --configfile: labeled patients")
    parser.add_argument("--seed", type=int, help="with --configfile: training seed")
    parser.add_argument("--base", type=Path, default=None,
                        help="with --configfile: the config the files are merged over (default: "
                        "the embedded config/config.yaml)")
    parser.add_argument("--data", type=Path, help="preprocessed data folder (SSL4MIS form); default "
                        "with --configfile: the workflow's RESULTS/data/DATASET")
    parser.add_argument("--out", type=Path, help="run folder (model.pt, train_log.csv, ...); default "
                        "with --configfile: the workflow's RESULTS/runs/DATASET/RUN/LN/seedS")
    parser.add_argument("--device", default=None, help="override settings: auto | cpu | cuda")
    parser.add_argument("--threads", type=positive_int, default=None, help="override settings: CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress output")


def _from_configfiles(args) -> dict:
    """Settings of ``--method/--labeled/--seed`` from the merged config files; fills the
    workflow's --data and --out when not given."""
    from advmim import runs

    missing = [f"--{k}" for k in ("method", "labeled", "seed") if getattr(args, k) is None]
    if missing:
        raise ConfigError(f"--configfile needs {', '.join(missing)}")
    config = runs.load_configs(args.configfile, args.base)
    settings = runs.job_settings(config, args.method, args.labeled, args.seed)
    args.data = args.data or runs.data_folder(config)
    args.out = args.out or runs.run_folder(config, args.method, args.labeled, args.seed)
    return settings


def parse_settings(args) -> dict:
    """The run settings the arguments name (``--device``/``--threads`` applied)."""
    if args.configfile is not None:
        settings = _from_configfiles(args)
    else:
        given = [f"--{k}" for k in ("method", "labeled", "seed", "base") if getattr(args, k) is not None]
        if given:
            raise ConfigError(f"{', '.join(given)}: only with --configfile")
        if args.data is None or args.out is None:
            raise ConfigError("--settings and --settings-file need --data and --out")
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
    # the workflow's run folder holds the settings file (rule run_settings) before training
    given = {args.settings_file.resolve()} if args.settings_file else set()
    others = ([p for p in args.out.iterdir() if p.resolve() not in given and p.name != LOCK_NAME]
              if args.out.is_dir() else [])
    if others and not (args.out / "config.json").is_file():
        raise OutputError(args.out, "folder is not empty and is not a run folder (no config.json); "
                                    "refusing to write into it (choose an empty folder)")
    with hold_run_folder(args.out), claim_training_device(settings["device"],
                                                          settings["gpu_jobs_per_device"]) as device:
        path = train(settings, args.data, args.out, device=device, progress=not args.no_progress)
    print(f"model written to {path}")
    return 0
