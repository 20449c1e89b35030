"""Write the DVC-tracked summaries of a benchmark: a flat metrics JSON (mean Dice/HD95 per
method x labeled over seeds) and, optionally, one training-curve CSV per run (down-sampled
train_log.csv) for ``dvc plots``."""

from __future__ import annotations

from pathlib import Path

NAME = "summarize"
HELP = "write a metrics summary JSON and training-curve CSVs (for dvc metrics / dvc plots)"


def add_arguments(parser):
    parser.add_argument("--metrics", required=True, nargs="+", type=Path, help="metrics JSON files")
    parser.add_argument("--out", required=True, type=Path, help="summary JSON to write")
    parser.add_argument("--curves", type=Path, help="folder for the training-curve CSVs")
    parser.add_argument("--runs", nargs="+", type=Path, default=[],
                        help="run folders (or their model.pt) whose train_log.csv goes to --curves")
    parser.add_argument("--max-points", type=int, default=500,
                        help="at most this many rows per curve (bins averaged; default 500)")


def run(args) -> int:
    from advmim.errors import ConfigError
    from advmim.io import check_outputs
    from advmim.report.summary import write_curves, write_summary

    if args.runs and args.curves is None:
        raise ConfigError("--runs needs --curves (the folder to write the curves to)")
    if args.max_points < 1:
        raise ConfigError("--max-points must be >= 1")
    check_outputs(files=[args.out], folders=[args.curves], inputs=[*args.metrics, *args.runs])
    summary = write_summary(args.metrics, args.out)
    n = sum(len(nets) for nets in summary["results"].values())
    print(f"{args.out}: {n} method/network row(s) from {len(args.metrics)} run(s)")
    if args.curves is not None:
        curves = write_curves(args.runs, args.curves, args.max_points)
        print(f"{args.curves}: {len(curves)} training curve(s)")
    return 0
