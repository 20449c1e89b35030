"""Build the results table (Markdown, CSV, LaTeX, HTML) from per-run metrics JSON files.

The workflow passes its merged configuration with --config-json (not listed below); --config is
the old spelling of --configfile.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "table"
HELP = "build the results table (Markdown, CSV, LaTeX, HTML) with the pre-registered tests from metrics JSONs"
SUFFIXES = (".md", ".csv", ".tex", ".html")


def add_arguments(parser):
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--configfile", nargs="+", type=Path, metavar="FILE",
                     help="workflow config(s) (YAML), merged in order over --base as Snakemake does")
    src.add_argument("--config", nargs="+", type=Path, dest="configfile", help=argparse.SUPPRESS)  # old name
    parser.add_argument("--base", type=Path, default=None,
                        help="with --configfile: the config the files are merged over (default: "
                        "the embedded config/config.yaml)")
    src.add_argument("--config-json", help=argparse.SUPPRESS)  # the workflow's merged config
    parser.add_argument("--metrics", required=True, nargs="+", type=Path, help="metrics JSON files")
    parser.add_argument("--out", required=True, type=Path,
                        help="table .md (.csv, .tex and .html are written beside it)")
    parser.add_argument("--kind", choices=["main", "ablation"], default="main",
                        help="main: the methods of the config, with the pre-registered tests; "
                             "ablation: its ablation variants")
    parser.add_argument("--references", type=Path, default=None,
                        help="reported numbers (CSV: dataset,method,labeled,metric,value,source)")
    parser.add_argument("--stats-out", type=Path, default=None,
                        help="CSV of every pre-registered comparison (CI, raw and Holm p; main table only)")
    parser.add_argument("--quiet", action="store_true", help="do not print the table")


def run(args) -> int:
    import json

    from advmim.config import validate_config
    from advmim.io import check_outputs
    from advmim.report.collect import broadcast_all_labels, run_frame, volume_frame, volume_means
    from advmim.report.references import load_references
    from advmim.report.table import render_tables, write_all
    from advmim.report.validate import load_metrics

    if args.base is not None and args.configfile is None:
        from advmim.errors import ConfigError

        raise ConfigError("--base: only with --configfile")
    outputs = [args.out.with_suffix(s) for s in SUFFIXES]
    check_outputs(files=[args.out, *outputs, args.stats_out],
                  inputs=[*(args.configfile or []), *args.metrics, args.references])
    if args.configfile is not None:
        from advmim.runs import load_configs

        config = load_configs(args.configfile, args.base)
    else:
        config = validate_config(json.loads(args.config_json), source="--config-json")
    expect = {"dataset": config["dataset"]["name"], "mode": config["evaluation"]["mode"],
              "split": config["evaluation"]["split"], "classes": list(config["dataset"]["class_names"])}
    volumes = broadcast_all_labels(volume_frame(load_metrics(args.metrics, expect)))
    runs = run_frame(volumes)
    name = config["dataset"]["name"]
    refs = load_references(args.references) if args.references else None
    tests, note = None, ""
    if args.kind == "ablation":
        ablations = config.get("ablations", {})
        order = list(dict.fromkeys(v["method"] for v in ablations.values()))
        labels = {k: v.get("label", k) for k, v in ablations.items()}
        title = f"Ablations — {name}"
    else:
        from advmim.report.model import ordered_rows
        from advmim.report.stats import compare, summarise, tests_footnote

        order, labels = list(config["methods"]), None
        rows = [r for r in ordered_rows(summarise(runs), order) if r[1] is None]
        tests, notes = compare(volume_means(volumes), config, rows)
        note = tests_footnote(tests, notes, config)
        title = f"Results — {name}"
    table, texts = render_tables(runs, config, order, title, labels=labels, tests=tests,
                                 tests_note=note, refs=refs)
    files = {args.out.with_suffix(s): texts[s] for s in SUFFIXES}
    if args.stats_out is not None and tests is not None:
        files[args.stats_out] = tests.to_csv(index=False)
    write_all(files)
    if not args.quiet:
        from advmim.report.terminal import print_table

        print_table(table)
    return 0
