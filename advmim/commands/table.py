"""Build the results table (Markdown + CSV) from per-run metrics JSON files."""

from __future__ import annotations

from pathlib import Path

NAME = "table"
HELP = "build the results table (Markdown + CSV) from metrics JSONs"


def add_arguments(parser):
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", type=Path, help="workflow config (YAML)")
    src.add_argument("--config-json", help="workflow config as a JSON object (used by the workflow)")
    parser.add_argument("--metrics", required=True, nargs="+", type=Path, help="metrics JSON files")
    parser.add_argument("--out", required=True, type=Path, help="table .md (a .csv is written beside it)")
    parser.add_argument("--kind", choices=["main", "ablation"], default="main")
    parser.add_argument("--quiet", action="store_true", help="do not print the table")


def run(args) -> int:
    import json

    from advmim.config import load_config, validate_config
    from advmim.report.collect import collect
    from advmim.report.table import write_tables

    if args.config is not None:
        config = load_config(args.config)
    else:
        config = validate_config(json.loads(args.config_json), source="--config-json")
    df = collect(args.metrics)
    name = config["dataset"]["name"]
    if args.kind == "ablation":
        ablations = config.get("ablations", {})
        order = list(dict.fromkeys(v["method"] for v in ablations.values()))
        labels = {k: v.get("label", k) for k, v in ablations.items()}
        text = write_tables(df, config, args.out, order, f"Ablations — {name}", labels=labels)
    else:
        text = write_tables(df, config, args.out, list(config["methods"]), f"Results — {name}")
    if not args.quiet:
        from advmim.report.terminal import print_markdown

        print_markdown(text)
    return 0
