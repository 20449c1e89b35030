"""Draw the result figures: training curves per run name, Dice vs labeled ratio, qualitative overlays."""

from __future__ import annotations

from pathlib import Path

from advmim.commands import positive_int

NAME = "figures"
HELP = "draw training curves, Dice vs labeled ratio and qualitative overlays (PNG + PDF)"
KINDS = ("curves", "dice", "qualitative")


def add_arguments(parser):
    parser.add_argument("--metrics", required=True, nargs="+", type=Path, help="metrics JSON files")
    parser.add_argument("--runs", nargs="+", type=Path, default=[],
                        help="run folders (or their model.pt) with config.json and train_log.csv "
                             "(for curves and qualitative; dice needs only --metrics)")
    parser.add_argument("--data", type=Path, help="preprocessed data folder (for qualitative)")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--kind", nargs="+", choices=KINDS, default=list(KINDS), help="figures to draw")
    parser.add_argument("--order", nargs="*", default=None, help="method order (as in the table)")
    parser.add_argument("--threads", type=positive_int, default=1, help="CPU threads for inference")


def run(args) -> int:
    from advmim.errors import ConfigError
    from advmim.io import check_outputs
    from advmim.report import figures
    from advmim.report.collect import collect
    from advmim.report.stats import collect_volumes

    if "qualitative" in args.kind and args.data is None:
        raise ConfigError("--data is needed for the qualitative figure")
    needs_runs = [k for k in args.kind if k in ("curves", "qualitative")]
    if needs_runs and not args.runs:
        raise ConfigError(f"--runs is needed for the {' and '.join(needs_runs)} figure(s)")
    check_outputs(folders=[args.out], inputs=[*args.metrics, *args.runs, args.data])
    runs = figures.read_runs(args.runs)
    written = []
    if "curves" in args.kind:
        written += figures.training_curves(runs, args.out)
    if "dice" in args.kind:
        written += figures.dice_vs_labeled(collect(args.metrics), args.out / "dice_vs_labeled", args.order)
    if "qualitative" in args.kind:
        import torch

        torch.set_num_threads(args.threads)
        written += figures.qualitative(collect_volumes(args.metrics), runs, args.data,
                                       args.out / "qualitative", order=args.order)
    for path in written:
        print(f"wrote {path}")
    return 0
