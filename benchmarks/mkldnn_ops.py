"""Can a training step keep oneDNN's blocked (MKLDNN) layout from layer to layer? (issue 23)

Usage: python benchmarks/mkldnn_ops.py

Runs each operation our networks use in a training step (the SSL4MIS U-Net's, then the
Swin-UNet's) on an MKLDNN activation that requires grad, with dense weights, forward and
backward, and prints whether it works and whether its output stays MKLDNN. A layout can only pay
if every op between two convolutions keeps it; one op that fails forces a conversion (or does
not run at all). Final line: ``unet_ops_kept=K/N swin_ops_kept=K/N``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def unet_ops() -> dict:
    conv, bn, up = nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8).train(), nn.ConvTranspose2d(8, 8, 2, stride=2)
    return {
        "conv2d": conv, "batch_norm (train)": bn, "leaky_relu": lambda t: F.leaky_relu(t, 0.01),
        "dropout": lambda t: F.dropout(t, 0.1, True), "max_pool2d": nn.MaxPool2d(2),
        "interpolate (bilinear)": lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=True),
        "conv_transpose2d": up, "cat": lambda t: torch.cat([t, t], 1), "add": lambda t: t + t,
    }


def swin_ops() -> dict:
    lin, norm = nn.Linear(8, 8), nn.LayerNorm(8)
    return {
        "linear (channels last)": lambda t: lin(t.permute(0, 2, 3, 1)), "layer_norm": lambda t: norm(t.permute(0, 2, 3, 1)),
        "gelu": F.gelu, "softmax": lambda t: t.softmax(-1), "matmul": lambda t: t @ t.transpose(-1, -2),
        "roll (shifted windows)": lambda t: torch.roll(t, (2, 2), (2, 3)),
    }


def check(op) -> tuple[bool, bool, str]:
    """(works forward + backward, output stays MKLDNN, error)."""
    x = torch.randn(2, 8, 16, 16).to_mkldnn().requires_grad_()
    try:
        y = op(x)
        (y.to_dense() if y.is_mkldnn else y).sum().backward()
        return True, y.is_mkldnn, ""
    except (RuntimeError, NotImplementedError) as exc:
        return False, False, f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}; MKLDNN activations, dense weights, training mode")
    print("| network | op | forward + backward | output MKLDNN | error |\n|---|---|---|---|---|")
    kept = {}
    for net, ops in (("unet", unet_ops()), ("swin", swin_ops())):
        results = {name: check(op) for name, op in ops.items()}
        for name, (ok, stays, err) in results.items():
            print(f"| {net} | {name} | {'yes' if ok else 'no'} | {'yes' if stays else 'no'} | {err} |")
        kept[net] = (sum(ok and stays for ok, stays, _ in results.values()), len(results))
    print(" ".join(f"{net}_ops_kept={k}/{n}" for net, (k, n) in kept.items()))


if __name__ == "__main__":
    main()
