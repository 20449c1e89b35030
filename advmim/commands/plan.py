"""Estimate the device-hours needed to regenerate every table of one or more configurations.

Uses measured step times (benchmarks/step_times.json, written by
``benchmarks/train_step.py --record``); the plan says which device they were measured on.
"""

from __future__ import annotations

from pathlib import Path

NAME = "plan"
HELP = "estimate device-hours to regenerate every table from measured step times"

DEFAULT_STEP_TIMES = Path("benchmarks") / "step_times.json"


def add_arguments(parser):
    parser.add_argument(
        "--configfile", required=True, nargs="+", type=Path,
        help="workflow config(s) (YAML), one per dataset",
    )
    parser.add_argument(
        "--step-ms-file", type=Path, default=DEFAULT_STEP_TIMES,
        help=f"measured step times (default: {DEFAULT_STEP_TIMES})",
    )
    parser.add_argument(
        "--base", type=Path, default=Path("config") / "config.yaml",
        help="config each --configfile is merged over, as Snakemake does (default: "
        "config/config.yaml; ignored when missing)",
    )
    parser.add_argument(
        "--targets", nargs="+", choices=["main", "ablations"], default=["main", "ablations"],
        help="workflow targets whose training jobs are counted (default: both tables)",
    )
    parser.add_argument(
        "--device", default=None,
        help="use the step times of this device only (default: the one covering most methods, "
        "and GPU-hours beside it when the file has GPU step times)",
    )


def run(args) -> int:
    from advmim.config import load_config, read_yaml, validate_config
    from advmim.plan import gpu_devices, load_step_times, make_plan, merge_configs, render

    configs = []
    for path in args.configfile:
        if args.base and args.base.is_file() and path.is_file() and args.base.resolve() != path.resolve():
            base = read_yaml(args.base) or {}
            override = read_yaml(path) or {}
            configs.append(validate_config(merge_configs(base, override), source=str(path)))
        else:
            configs.append(load_config(path))
    step_times = load_step_times(args.step_ms_file)
    plan = make_plan(configs, step_times, args.device, args.targets)
    render(plan)
    if args.device is None:  # GPU-hours beside the CPU plan when a GPU was measured
        for device in gpu_devices(step_times):
            if device != plan.device:
                render(make_plan(configs, step_times, device, args.targets))
    return 0
