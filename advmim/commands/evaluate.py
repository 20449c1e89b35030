"""Evaluate a trained run on the test (or validation) volumes: per-class Dice, Jaccard, HD95 and ASD
as JSON."""

from __future__ import annotations

from pathlib import Path

from advmim.commands import positive_int

NAME = "evaluate"
HELP = "evaluate a trained run on 3D volumes (Dice, Jaccard, HD95, ASD) and write a metrics JSON"


def add_arguments(parser):
    parser.add_argument("--model", required=True, type=Path, help="run's model.pt (or its run folder)")
    parser.add_argument("--data", required=True, type=Path, help="preprocessed data folder")
    parser.add_argument("--out", required=True, type=Path,
                        help="metrics JSON to write (an existing one is kept unless --overwrite)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing --out (a finished result is never replaced otherwise)")
    parser.add_argument("--mode", choices=["paper", "strict"], default="paper",
                        help="paper: SSL4MIS (voxel HD95, empty prediction = 0); strict: mm + penalty")
    parser.add_argument("--split", choices=["test", "val", "val+test"], default="test",
                        help="volumes scored (val+test: both lists, as CTCT's paper reported)")
    parser.add_argument("--checkpoint", choices=["last", "best_val"], default="last",
                        help="weights evaluated: last iteration (model.pt) or each network at its best "
                        "validation Dice (model_best_val.pt, written when trained with "
                        "evaluation.checkpoint: best_val) (default: last)")
    parser.add_argument("--threads", type=positive_int, default=1, help="CPU threads")


def run(args) -> int:
    import torch

    from advmim.errors import OutputError
    from advmim.evaluate import evaluate_to_file
    from advmim.io import check_outputs

    check_outputs(files=[args.out], inputs=[args.model, args.data])
    if args.out.is_file() and not args.overwrite:
        raise OutputError(args.out, "exists (a finished result); refusing to overwrite it "
                                    "(give --overwrite to replace it, or another --out)")
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    result = evaluate_to_file(args.model, args.data, args.out, mode=args.mode, split=args.split,
                              device=device, checkpoint=args.checkpoint)
    for key, net in result["networks"].items():
        mean = net["mean"]
        print(f"{result['method']} [{key}] Dice {mean['dice']['mean']:.4f} HD95 {mean['hd95']['mean']:.2f}")
    return 0
