"""Download and unpack a public dataset into RAW/database/... (the dataset plug-in's fetcher).

ACDC is fetched from the CREATIS humanheart-project server (resumable, SHA-256 checked) or taken
from a zip downloaded by hand (--zip). The data is for non-commercial research use (CC BY-NC-SA
4.0); cite Bernard et al., IEEE TMI 37(11), 2018. Datasets that need an account say where to get
them (bring your own: dataset.raw_dir).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from advmim.errors import ConfigError

NAME = "download"
HELP = "download and unpack a public dataset into RAW/database"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from advmim.data.registry import dataset_names, get_dataset

    public = [n for n in dataset_names() if get_dataset(n).download_url]
    parser.add_argument("dataset", choices=dataset_names(), metavar="|".join(public),
                        help=f"dataset to fetch (public: {', '.join(public)}; the others "
                        "need an account: bring your own, docs/datasets.md)")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="raw data folder; receives DIR/database/training/patientXXX/",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--url", help="download URL (default: the dataset's official source)")
    source.add_argument(
        "--zip",
        type=Path,
        metavar="FILE",
        help="use this already-downloaded zip instead of downloading",
    )
    parser.add_argument(
        "--sha256",
        metavar="HEX",
        help="expected SHA-256 of the zip; without it the computed hash is "
        "printed so it can be pinned in the config",
    )
    parser.add_argument("--retries", type=int, default=3, help="retries after a dropped connection")
    parser.add_argument("--timeout", type=float, default=30, help="socket timeout in seconds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from advmim.data.registry import get_dataset

    plugin = get_dataset(args.dataset)
    if not plugin.download_url:
        raise ConfigError(f"{args.dataset} cannot be downloaded automatically. {plugin.data_hint}")
    try:
        database = plugin.download(
            args.out,
            url=args.url or plugin.download_url,
            sha256=args.sha256,
            zip_path=args.zip,
            progress=not args.no_progress,
            retries=args.retries,
            timeout=args.timeout,
        )
    except KeyboardInterrupt as exc:
        part = plugin.partial_download(args.out)
        if args.zip is None and part.is_file():
            exc.detail = f"run the command again to resume from {part} ({part.stat().st_size} bytes kept)"
        raise
    print(f"{args.dataset} ready in {database / 'training'}")
    return 0
