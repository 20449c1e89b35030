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


def load_split(data_dir: Path, split: str, num_classes: int | None = None) -> list[tuple]:
    """``[(case, image, label, spacing), ...]`` of the volumes of ``split`` (labels checked
    against ``num_classes`` when given)."""
    from advmim.data.slices import load_volume

    cases = split_cases(data_dir, split)
    if not cases:
        raise InputError(data_dir / f"{split.split('+')[-1]}.list",
                         f"the {split} split lists no volumes: nothing to evaluate")
    return [(case, *load_volume(data_dir, case, num_classes)) for case in cases]


def score_network(net, volumes: list[tuple], classes: list[str], img_size: int, device,
                  mode: str = "paper") -> dict:
    """``{"per_volume", "mean"}`` of one network on ``volumes`` (:func:`load_split`)."""
    per_volume = []
    for case, image, label, spacing in volumes:
        pred = predict_volume(net, image, img_size, device)
        per_volume.append({"case": case, **evaluate_volume(pred, label, classes, mode=mode, spacing=spacing)})
    return {"per_volume": per_volume, "mean": aggregate(per_volume, classes, mode)}


CHECKPOINTS = ("last", "best_val")
BEST_VAL_FILE = "model_best_val.pt"  # beside model.pt: each network at its best val Dice


def checkpoint_file(model_path: str | Path, checkpoint: str = "last") -> Path:
    """The weights ``checkpoint`` selects: the run's ``model.pt`` (``last``) or the best-on-val
    file beside it (``best_val``); ``model_path`` is model.pt or the run folder."""
    model_path = Path(model_path)
    if checkpoint not in CHECKPOINTS:
        raise ValueError(f"checkpoint must be one of {', '.join(CHECKPOINTS)}, got {checkpoint!r}")
    if checkpoint == "last":
        return model_path
    best = (model_path if model_path.is_dir() else model_path.parent) / BEST_VAL_FILE
    if not best.is_file():
        raise InputError(best, "not found: the run was trained without validation "
                               "(evaluation.checkpoint: best_val must be set before training)")
    return best


def evaluate_run(model_path: str | Path, data_dir: str | Path, mode: str = "paper", split: str = "test",
                 device: torch.device | None = None, checkpoint: str = "last") -> dict:
    """Metrics of every reported network of the run in ``model_path``, with the weights
    ``checkpoint`` selects (:func:`checkpoint_file`)."""
    device = device or torch.device("cpu")
    data_dir = Path(data_dir)
    settings, nets = load_networks(checkpoint_file(model_path, checkpoint), device)
    volumes = load_split(data_dir, split, settings["num_classes"])
    if mode == "strict":
        for case, _, _, spacing in volumes:
            if spacing is None:
                raise InputError(data_dir / "data" / f"{case}.h5", "no voxel spacing stored; "
                                 "strict mode needs it (use --mode paper)")
    classes = settings["class_names"]
    networks = {key: score_network(net, volumes, classes, settings["img_size"], device, mode)
                for key, net in nets.items()}
    return {
        "dataset": settings["dataset"], "method": settings["method"], "variant": settings.get("variant"),
        "labeled": settings["labeled"], "seed": settings["seed"], "mode": mode, "split": split,
        "checkpoint": checkpoint,
        "classes": classes, "iterations": settings["iterations"], "img_size": settings["img_size"],
        "pretrained": settings.get("models", {}).get("swin_unet", {}).get("pretrained"),
        "networks": networks,
    }


def evaluate_to_file(model_path, data_dir, out, mode="paper", split="test", device=None,
                     checkpoint="last") -> dict:
    result = evaluate_run(model_path, data_dir, mode=mode, split=split, device=device, checkpoint=checkpoint)
    write_json(out, result)
    return result
