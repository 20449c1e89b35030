"""The one training loop shared by every method: seeds, LR schedule, streams, checkpoints, logs."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

from advmim.blocks.schedule import poly_lr
from advmim.blocks.seeding import derive_seed, seed_everything
from advmim.data.splits import read_list, slice_patient
from advmim.errors import AdvmimError, Interrupted
from advmim.io import write_json, write_text
from advmim.methods import Batch, get_method, load_plugins
from advmim.train.checkpoint import load_checkpoint, save_checkpoint
from advmim.train.data_identity import check_data_folder, data_identity
from advmim.train.gpu import peak_memory_mb
from advmim.train.memory_check import check_step_fits
from advmim.train.monitor import LOG_FILE, TENSORBOARD_DIR, Logger, TensorBoard, TrainLog
from advmim.train.precision import amp_dtype, autocast, grad_scaler
from advmim.train.sampling import EpochSampler

# Settings that may differ between an interrupted run and its resumption.
RESUME_FREE_KEYS = {"device", "threads", "checkpoint_every", "gpu_jobs_per_device"}
MODEL_FILE = "model.pt"
DRAW_FILE = "labeled_patients.list"  # the labeled patients of a per-seed draw (labeled_draws)
LAST_CHECKPOINT = Path("ckpt") / "last.pt"
# A hard link to the finished model.pt, kept when the run ends: if the workflow did not accept
# model.pt (e.g. Snakemake interrupted just then and --rerun-incomplete deletes it), the rerun
# restores it from here instead of training again.
FINAL_CHECKPOINT = Path("ckpt") / "final.pt"


def training_names(settings: dict, data_dir: Path) -> tuple[list[str], list[str] | None]:
    """Names of the labeled and unlabeled training slices of a run (unlabeled None when unused)."""
    from advmim.data.slices import labeled_slice_names, unlabeled_slice_names

    load_plugins(settings.get("plugins"))
    cls = get_method(settings["method"])
    data_dir = check_data_folder(data_dir, settings["num_classes"])
    if cls.all_labels:
        names = read_list(data_dir / "train_slices.list")
    else:
        names = labeled_slice_names(data_dir, settings["labeled"], settings.get("labeled_draw_seed"))
    return names, unlabeled_slice_names(data_dir, names) if cls.uses_unlabeled else None


def training_sets(settings: dict, data_dir: Path):
    """The labeled and unlabeled slice datasets of a run (unlabeled is None when unused)."""
    from advmim.data.slices import SliceDataset

    names, unlabeled_names = training_names(settings, data_dir)
    size = settings["img_size"]
    labeled = SliceDataset(data_dir, names, size, with_label=True, num_classes=settings["num_classes"])
    unlabeled = None
    if unlabeled_names is not None:
        unlabeled = SliceDataset(data_dir, unlabeled_names, size, with_label=False)
    return labeled, unlabeled


def run_data_identity(settings: dict, data_dir: Path) -> str:
    """:func:`advmim.train.data_identity.data_identity` of the slices this run trains on."""
    from advmim.data.ssl4mis import slice_dir

    names, unlabeled_names = training_names(settings, data_dir)
    folder = slice_dir(data_dir)
    return data_identity(data_dir, [folder / f"{n}.h5" for n in [*names, *(unlabeled_names or [])]])


def check_same_data(state: dict, identity: str, path: Path, data_dir: Path) -> None:
    """Refuse a checkpoint trained on another data folder (one without a record: accepted)."""
    if state.get("data", identity) != identity:
        raise AdvmimError(f"{path}: checkpoint was trained on other data than {data_dir} "
                          "(dataset.json or training slices differ); use the same --data, or "
                          "delete the run folder to start again")


def make_batch(dataset, sampler: EpochSampler, iteration: int, device, augmentation: str = "ssl4mis"):
    """Augmented batch of iteration ``iteration``: (images (B,1,H,W), labels (B,H,W) or None)."""
    from advmim.data.slices import augment_slice

    images, labels = [], []
    for idx, rng in zip(sampler.indices(iteration), sampler.sample_rngs(iteration), strict=True):
        image, label = augment_slice(
            dataset.images[idx], dataset.labels[idx], rng, dataset.img_size, recipe=augmentation
        )
        images.append(image)
        labels.append(label)
    x = torch.from_numpy(np.stack(images)[:, None]).to(device)
    y = None if labels[0] is None else torch.from_numpy(np.stack(labels).astype(np.int64)).to(device)
    return x, y


def check_settings(settings, source: str = "run settings") -> dict:
    """Run settings checked against the schema, defaults filled (:func:`advmim.schema.check_run_settings`)."""
    from advmim.schema import check_run_settings

    return check_run_settings(settings, source)


def _comparable(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in RESUME_FREE_KEYS}


def _link(src: Path, dst: Path) -> None:
    """Make ``dst`` a hard link to ``src`` (a copy where links are impossible), atomically."""
    from advmim.io import atomic_path, write_bytes

    try:
        with atomic_path(dst) as tmp:
            tmp.unlink()
            os.link(src, tmp)
    except OSError:
        write_bytes(dst, src.read_bytes())


def _restore_finished(settings: dict, run_dir: Path, identity: str, data_dir: Path) -> Path | None:
    """model.pt again from ckpt/final.pt of a finished run with the same settings, else None."""
    final, model = run_dir / FINAL_CHECKPOINT, run_dir / MODEL_FILE
    if not final.is_file():
        return None
    state = load_checkpoint(final)
    if _comparable(state["settings"]) != _comparable(settings):
        final.unlink()
        return None
    check_same_data(state, identity, final, data_dir)
    _link(final, model)
    print(f"{model}: restored from {final} (this run had finished; delete the run folder to "
          "train it again)", file=sys.stderr, flush=True)
    return model


class StopRequest:
    """While active, SIGINT/SIGTERM only ask the loop to stop after the current iteration (a
    second signal stops at once), so the checkpoint written then is consistent."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame):
        if self.signum is not None:
            raise Interrupted(signum)
        self.signum = signum
        print(f"{signal.Signals(signum).name}: stopping after this iteration "
              "(send it again to stop at once)", file=sys.stderr, flush=True)

    def __enter__(self) -> StopRequest:
        with contextlib.suppress(ValueError):  # not the main thread: signals stay as they are
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def train(settings: dict, data_dir: str | Path, run_dir: str | Path, device: torch.device | None = None,
          progress: bool = True, stop_after: int | None = None) -> Path:
    """Train one run; resume from ``run_dir/ckpt/last.pt`` when present. Returns the model path.

    ``stop_after`` ends the loop after that many iterations (tests of interruption/resume).
    """
    check_settings(settings)
    run_dir = Path(run_dir)
    model_path = run_dir / MODEL_FILE
    if model_path.exists():
        raise AdvmimError(f"{model_path}: a finished model is already there; refusing to overwrite it")
    identity = run_data_identity(settings, Path(data_dir))
    if (restored := _restore_finished(settings, run_dir, identity, Path(data_dir))) is not None:
        return restored
    device = device or torch.device("cpu")
    check_step_fits(settings, device)
    torch.set_num_threads(int(settings["threads"]))
    seed = int(settings["seed"])
    seed_everything(seed)
    load_plugins(settings.get("plugins"))  # a method defined outside the package
    method = get_method(settings["method"])(settings, device)
    dtype = amp_dtype(settings["amp"], device)
    method.scaler = grad_scaler(dtype, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    labeled, unlabeled = training_sets(settings, data_dir)
    if settings.get("labeled_draw_seed") is not None:  # labeled_draws: per_seed: record the draw
        patients = dict.fromkeys(slice_patient(name) for name in labeled.names)
        write_text(run_dir / DRAW_FILE, "".join(f"{p}\n" for p in patients))
    lab_sampler = EpochSampler(len(labeled), settings["batch_labeled"], seed, "labeled")
    unl_sampler = (
        EpochSampler(len(unlabeled), settings["batch_unlabeled"], seed, "unlabeled") if unlabeled else None
    )

    ckpt_path = run_dir / LAST_CHECKPOINT
    start, rows, resumed = 0, [], {}
    if ckpt_path.exists():
        state = load_checkpoint(ckpt_path, map_location=device)
        if _comparable(state["settings"]) != _comparable(settings):
            raise AdvmimError(
                f"{ckpt_path}: checkpoint was written with other settings; "
                "delete the run folder to start again"
            )
        check_same_data(state, identity, ckpt_path, Path(data_dir))
        method.load_state_dict(state["method"])
        start, rows, resumed = state["iteration"], state["log"], state.get("validation")
        if progress:
            print(f"resuming from iteration {start} ({ckpt_path})", file=sys.stderr, flush=True)
    write_json(run_dir / "config.json", settings)

    total = settings["iterations"]
    every = settings["checkpoint_every"]
    augmentation = settings["augmentation"]
    title = f"{settings['method']} L={settings['labeled']} seed={seed}"
    logger = Logger(total, start, title, enabled=progress)
    log = TrainLog(run_dir / LOG_FILE, rows)
    board = TensorBoard(run_dir / TENSORBOARD_DIR, start)

    from advmim.train.validation import Validator  # evaluation code (scipy): not at import time

    validator = Validator.create(settings, data_dir, run_dir, device, resumed)
    method.train_mode()
    t_start = time.perf_counter()
    with StopRequest() as stop:
        try:
            for it in range(start, total):
                if stop_after is not None and it >= start + stop_after:
                    return ckpt_path
                lr = poly_lr(settings["lr"], it, total)
                method.set_lr(lr)
                torch.manual_seed(derive_seed(seed, it, "torch"))
                xl, yl = make_batch(labeled, lab_sampler, it, device, augmentation)
                xu = make_batch(
                    unlabeled, unl_sampler, it, device, augmentation
                )[0] if unl_sampler else None
                with autocast(dtype, device):
                    losses = method.train_step(Batch(xl, yl, xu), it)
                _check_finite(losses, it, run_dir)
                rows.append({"iteration": it + 1, "lr": lr, **losses})
                log.append(rows[-1])
                board.add("train", rows[-1], it + 1)
                logger.update(it, losses, lr)
                if validator is not None and validator.due(it + 1):
                    scores = validator.validate(method, it + 1)
                    board.add("val", {f"dice_{k}": v for k, v in scores.items()}, it + 1)
                    logger.line(f"it {it + 1} val Dice " + " ".join(f"{k} {v:.4f}" for k, v in scores.items()))
                stopping = stop.signum is not None and it + 1 < total
                if stopping or ((it + 1) % every == 0 and it + 1 < total):
                    save_checkpoint(ckpt_path, {"iteration": it + 1, "settings": settings, "data": identity,
                                                "method": method.state_dict(), "log": rows,
                                                "validation": validator and validator.state()})
                if stopping:
                    raise Interrupted(stop.signum, f"checkpoint of iteration {it + 1} written to "
                                      f"{ckpt_path}; run the same command again to resume")
        finally:
            logger.close()
            log.close()
            board.close()
            if validator is not None:
                validator.close()
        # a signal from here on is noted only: the finished model is written
        nets = {k: v.state_dict() for k, v in method.eval_networks().items()}
        info = {"device": str(device), "amp": str(dtype) if dtype else "off",
                "train_seconds": round(time.perf_counter() - t_start, 3), "iterations_run": total - start,
                "peak_memory_mb": round(peak_memory_mb(device), 1)}
        write_json(run_dir / "run_info.json", info)
        print(f"peak memory {info['peak_memory_mb']} MiB on {device}", file=sys.stderr, flush=True)
        final = {"settings": settings, "data": identity, "nets": nets, "iterations": total,
                 "architectures": method.architectures(), **info}
        if validator is not None:  # before model.pt: a finished run always has both
            validator.save_best(final)
        save_checkpoint(model_path, final)
        _link(model_path, run_dir / FINAL_CHECKPOINT)
        ckpt_path.unlink(missing_ok=True)
    return model_path


def _check_finite(losses: dict[str, float], it: int, run_dir: Path) -> None:
    bad = [k for k, v in losses.items() if not np.isfinite(v)]
    if bad:
        raise AdvmimError(f"{run_dir}: non-finite loss {bad} at iteration {it + 1}")
