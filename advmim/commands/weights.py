"""Download pretrained weights once: the ImageNet Swin-T the paper's Swin-UNet starts from.

  advmim download-weights swin-t --out results/pretrained/swin_tiny_patch4_window7_224.pth

The official release asset of microsoft/Swin-Transformer (the file Swin-Unet and SSL4MIS's CTCT
load), resumable and SHA-256 checked with the same code as the ACDC download, then checked to be
a Swin-T state dict. Without --sha256 the computed digest is printed so it can be pinned
(models.swin_unet.pretrained_sha256).
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "download-weights"
HELP = "download and verify pretrained weights (swin-t: ImageNet Swin-T)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from advmim.models.settings import SWIN_T_URL

    parser.add_argument("name", choices=["swin-t"], help="weights to fetch")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="where to keep them")
    parser.add_argument("--url", default=SWIN_T_URL, help=f"download URL (default: {SWIN_T_URL})")
    parser.add_argument("--sha256", metavar="HEX", help="expected SHA-256 (printed when not given)")
    parser.add_argument("--retries", type=int, default=3, help="retries after a dropped connection")
    parser.add_argument("--timeout", type=float, default=30, help="socket timeout in seconds")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from advmim.models.pretrained import fetch_swin_t

    path = fetch_swin_t(
        args.out,
        args.sha256,
        args.url,
        progress=not args.no_progress,
        retries=args.retries,
        timeout=args.timeout,
    )
    print(f"Swin-T weights ready in {path}")
    return 0
