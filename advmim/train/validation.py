"""Validation during training, for ``evaluation.checkpoint: best_val`` (SSL4MIS's rule).

SSL4MIS's 2D scripts (``train_*_2D.py``) score the model on the val volumes every 200
iterations (3D Dice per class, mean over volumes, then over classes) and keep the weights with
the highest mean Dice so far (a strictly higher value replaces them); ``test_2D_fully.py`` then
tests that best checkpoint. Here every reported network (AdvMIM: S and C) is scored and keeps its
own best, as SSL4MIS's two-network scripts (CPS, CTCT) keep one best file per model. The run
settings carry ``val_every`` (the cadence; the last iteration is always scored). Scoring runs in
eval mode without gradients and changes no random stream, so the trained weights are those of a
run without validation.

Written: ``val_log.csv`` (``iteration``, ``dice_<network>``), TensorBoard ``val/dice_<network>``,
and at the end ``model_best_val.pt`` beside ``model.pt`` (same format: each network at its
best iteration, ``best_iterations`` and ``val_dice`` added). The best weights and the curve are
part of the resumable checkpoint.
"""

from __future__ import annotations

from pathlib import Path

from advmim.evaluate import BEST_VAL_FILE, load_split, score_network
from advmim.train.checkpoint import save_checkpoint
from advmim.train.monitor import TrainLog

VAL_LOG = "val_log.csv"


class Validator:
    """Scores the reported networks on the val volumes every ``settings["val_every"]``
    iterations and keeps each network's best weights."""

    def __init__(self, settings: dict, data_dir: Path, run_dir: Path, device, state: dict | None = None):
        state = state or {}
        self.every, self.total = int(settings["val_every"]), int(settings["iterations"])
        self.classes, self.img_size, self.device = settings["class_names"], settings["img_size"], device
        self.volumes = load_split(Path(data_dir), "val", settings["num_classes"])
        self.run_dir = Path(run_dir)
        self.rows: list[dict] = list(state.get("rows", []))
        self.best: dict[str, dict] = dict(state.get("best", {}))
        self.log = TrainLog(self.run_dir / VAL_LOG, self.rows)

    @classmethod
    def create(cls, settings: dict, data_dir, run_dir, device, state: dict | None = None):
        """A validator when the settings ask for one (``val_every``), else None."""
        if not settings.get("val_every"):
            return None
        return cls(settings, data_dir, run_dir, device, state)

    def due(self, iteration: int) -> bool:
        return iteration % self.every == 0 or iteration == self.total

    def validate(self, method, iteration: int) -> dict[str, float]:
        """Mean val Dice of each reported network after ``iteration`` iterations; a better one
        than its best so far becomes the best."""
        import torch

        scores = {}
        with torch.no_grad():
            for key, net in method.eval_networks().items():
                net.eval()
                dice = score_network(net, self.volumes, self.classes, self.img_size, self.device)["mean"]["dice"]["mean"]
                scores[key] = float(dice)
                if key not in self.best or scores[key] > self.best[key]["dice"]:
                    weights = {k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}
                    self.best[key] = {"dice": scores[key], "iteration": iteration, "weights": weights}
        method.train_mode()
        self.rows.append({"iteration": iteration, **{f"dice_{k}": v for k, v in scores.items()}})
        self.log.append(self.rows[-1])
        return scores

    def state(self) -> dict:
        """What a resumed run needs: the curve and the best weights."""
        return {"rows": self.rows, "best": self.best}

    def save_best(self, model_state: dict) -> Path:
        """``model_best_val.pt``: ``model_state`` (what model.pt holds) with each network's best
        weights."""
        path = self.run_dir / BEST_VAL_FILE
        nets = {key: best["weights"] for key, best in self.best.items()}
        save_checkpoint(path, {**model_state, "nets": nets, "checkpoint": "best_val",
                               "best_iterations": {k: b["iteration"] for k, b in self.best.items()},
                               "val_dice": {k: b["dice"] for k, b in self.best.items()}})
        return path

    def close(self) -> None:
        self.log.close()
