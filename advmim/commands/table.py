"""Build the results table (Markdown + CSV) from per-run metrics JSON files.

The workflow passes its merged configuration with --config-json (not listed below); --config is
the old spelling of --configfile.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "table"
HELP = "build the results table (Markdown, CSV, LaTeX) with significance tests from metrics JSONs"


def add_arguments(parser):
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--configfile", type=Path, metavar="FILE", help="workflow config (YAML)")
    src.add_argument("--config", type=Path, dest="configfile", help=argparse.SUPPRESS)  # old name
    src.add_argument("--config-json", help=argparse.SUPPRESS)  # the workflow's merged config
    parser.add_argument("--metrics", required=True, nargs="+", type=Path, help="metrics JSON files")
    parser.add_argument("--out", required=True, type=Path,
                        help="table .md (.csv, .tex and .html are written beside it)")
    parser.add_argument("--kind", choices=["main", "ablation"], default="main",
                        help="main: the methods of the config; ablation: its ablations: variants")
    parser.add_argument("--references", type=Path, default=None,
                        help="reported numbers (CSV: dataset,method,labeled,metric,value,source)")
    parser.add_argument("--stats-out", type=Path, default=None,
                        help="CSV of the Wilcoxon tests vs the best baseline (main table only)")
    parser.add_argument("--quiet", action="store_true", help="do not print the table")


def run(args) -> int:
    import json

    from advmim.config import load_config, validate_config
    from advmim.io import check_outputs, write_text
    from advmim.report.collect import collect
    from advmim.report.references import load_references
    from advmim.report.stats import collect_volumes, compare_with_best_baseline
    from advmim.report.table import write_tables

    outputs = [args.out.with_suffix(s) for s in (".md", ".csv", ".tex", ".html")]
    check_outputs(files=[args.out, *outputs, args.stats_out],
                  inputs=[args.configfile, *args.metrics, args.references])
    if args.configfile is not None:
        config = load_config(args.configfile)
    else:
        config = validate_config(json.loads(args.config_json), source="--config-json")
    df = collect(args.metrics)
    name = config["dataset"]["name"]
    refs = load_references(args.references) if args.references else None
    if args.kind == "ablation":
        ablations = config.get("ablations", {})
        order = list(dict.fromkeys(v["method"] for v in ablations.values()))
        labels = {k: v.get("label", k) for k, v in ablations.items()}
        title = f"Ablations — {name}"
        _, flat, note = write_tables(df, config, args.out, order, title, labels=labels, refs=refs)
    else:
        tests = compare_with_best_baseline(collect_volumes(args.metrics), df)
        if args.stats_out is not None:
            write_text(args.stats_out, tests.to_csv(index=False))
        title = f"Results — {name}"
        _, flat, note = write_tables(df, config, args.out, list(config["methods"]), title,
                                     tests=tests, refs=refs)
    from advmim.report.terminal import print_table, table_html

    write_text(args.out.with_suffix(".html"), table_html(flat, title, note))
    if not args.quiet:
        print_table(flat, title, note)
    return 0
