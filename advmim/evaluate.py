"""Evaluate a finished run on a split: per-volume, per-class Dice, Jaccard, HD95 and ASD (one JSON
per run)."""

from __future__ import annotations

from pathlib import Path

import torch

from advmim.data.splits import read_list
from advmim.errors import InputError
from advmim.inference import load_networks, predict_volume
from advmim.io import write_json
from advmim.metrics import aggregate, evaluate_volume

SPLITS = ("test", "val", "val+test")


def split_cases(data_dir: Path, split: str) -> list[str]:
    """Cases of ``split``: ``test``, ``val``, or ``val+test`` (both lists, val first: the
    protocol CTCT's script header says its paper reported)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    return [case for part in split.split("+") for case in read_list(data_dir / f"{part}.list")]


def evaluate_run(model_path: str | Path, data_dir: str | Path, mode: str = "paper", split: str = "test",
                 device: torch.device | None = None) -> dict:
    """Metrics of every reported network of the run in ``model_path``."""
    from advmim.data.slices import load_volume

    device = device or torch.device("cpu")
    data_dir = Path(data_dir)
    cases = split_cases(data_dir, split)
    if not cases:
        raise InputError(data_dir / f"{split.split('+')[-1]}.list",
                         f"the {split} split lists no volumes: nothing to evaluate")
    volumes = [(case, *load_volume(data_dir, case)) for case in cases]
    if mode == "strict":
        for case, _, _, spacing in volumes:
            if spacing is None:
                raise InputError(data_dir / "data" / f"{case}.h5", "no voxel spacing stored; "
                                 "strict mode needs it (use --mode paper)")
    settings, nets = load_networks(model_path, device)
    classes = settings["class_names"]
    networks = {}
    for key, net in nets.items():
        per_volume = []
        for case, image, label, spacing in volumes:
            pred = predict_volume(net, image, settings["img_size"], device)
            result = evaluate_volume(pred, label, classes, mode=mode, spacing=spacing)
            per_volume.append({"case": case, **result})
        networks[key] = {"per_volume": per_volume, "mean": aggregate(per_volume, classes, mode)}
    return {
        "dataset": settings["dataset"], "method": settings["method"], "variant": settings.get("variant"),
        "labeled": settings["labeled"], "seed": settings["seed"], "mode": mode, "split": split,
        "classes": classes, "iterations": settings["iterations"], "img_size": settings["img_size"],
        "pretrained": settings.get("models", {}).get("swin_unet", {}).get("pretrained"),
        "networks": networks,
    }


def evaluate_to_file(model_path, data_dir, out, mode="paper", split="test", device=None) -> dict:
    result = evaluate_run(model_path, data_dir, mode=mode, split=split, device=device)
    write_json(out, result)
    return result
