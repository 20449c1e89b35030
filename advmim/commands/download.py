"""Download and unpack a public dataset into RAW/database/training/patientXXX/...

ACDC is fetched from the CREATIS humanheart-project server (resumable, SHA-256 checked) or taken
from a zip downloaded by hand (--zip). The data is for non-commercial research use (CC BY-NC-SA
4.0); cite Bernard et al., IEEE TMI 37(11), 2018. Synapse (BTCV) needs an account: bring your own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from advmim.errors import ConfigError

NAME = "download"
HELP = "download and unpack a dataset (acdc) into RAW/database/training"

DATASETS = ("acdc", "synapse")
_SYNAPSE_MESSAGE = (
    "synapse cannot be downloaded automatically: it needs a Synapse account. Register at "
    "https://www.synapse.org/#!Synapse:syn3193805 (Multi-Atlas Labeling Beyond the Cranial "
    "Vault), get the TransUNet-preprocessed form (train_npz/caseXXXX_sliceYYY.npz, "
    "test_vol_h5/caseXXXX.npy.h5) and point the config at that folder"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from advmim.data.download import ACDC_URL

    parser.add_argument("dataset", choices=DATASETS, metavar="acdc",
                        help="dataset to fetch: acdc, the one public dataset (synapse and "
                        "promise12 need an account: bring your own, docs/datasets.md)")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        metavar="DIR",
        help="raw data folder; receives DIR/database/training/patientXXX/",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--url",
        default=ACDC_URL,
        help="download URL (default: the CREATIS humanheart-project folder)",
    )
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
    from advmim.data.download import ACDC_ZIP_NAME, fetch_acdc

    if args.dataset == "synapse":
        raise ConfigError(_SYNAPSE_MESSAGE)
    try:
        database = fetch_acdc(
            args.out,
            url=args.url,
            sha256=args.sha256,
            zip_path=args.zip,
            progress=not args.no_progress,
            retries=args.retries,
            timeout=args.timeout,
        )
    except KeyboardInterrupt as exc:
        part = args.out / f"{ACDC_ZIP_NAME}.part"
        if args.zip is None and part.is_file():
            exc.detail = f"run the command again to resume from {part} ({part.stat().st_size} bytes kept)"
        raise
    print(f"ACDC ready in {database / 'training'}")
    return 0
