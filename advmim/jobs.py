"""The training jobs of a configuration: one list, read by the workflow (which files to make) and
by ``advmim plan`` (what they cost), so the two cannot disagree.

Targets: ``main`` (the main table: every method of ``methods``) and ``ablations`` (every
``ablations`` variant). A run is a method name or ``abl-<variant>``; a method trained on every
label (upper bound) does not depend on the labeled subset and runs once per seed, at the
smallest subset.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from dataclasses import dataclass

ABLATION_PREFIX = "abl-"
TARGETS = ("main", "ablations")


@dataclass(frozen=True)
class TrainJob:
    run: str             # method, or abl-<variant>
    method: str
    variant: str | None
    labeled: int
    seed: int


def run_identity(config: dict, run: str) -> tuple[str, str | None]:
    """(method, variant) of a run name."""
    if run.startswith(ABLATION_PREFIX):
        variant = run[len(ABLATION_PREFIX):]
        return config["ablations"][variant]["method"], variant
    return run, None


def target_runs(config: dict, target: str) -> list[str]:
    """Run names of one target, in configuration order."""
    if target == "main":
        return list(config["methods"])
    if target == "ablations":
        return [ABLATION_PREFIX + v for v in config.get("ablations", {})]
    raise ValueError(f"unknown target {target!r}; valid: {', '.join(TARGETS)}")


def train_jobs(config: dict, targets=TARGETS) -> list[TrainJob]:
    """Every training job of ``targets``, each once (a run in two targets counts once)."""
    from advmim.methods import method_card

    jobs, seen = [], set()
    for target in targets:
        for run in target_runs(config, target):
            method, variant = run_identity(config, run)
            all_labels = method_card(method).all_labels
            labeled = [min(config["labeled"])] if all_labels else config["labeled"]
            for n in labeled:
                for seed in config["seeds"]:
                    job = TrainJob(run, method, variant, int(n), int(seed))
                    if job not in seen:
                        seen.add(job)
                        jobs.append(job)
    return jobs


def training_uses_gpu(device: str) -> bool:
    """Whether a training job with ``training.device`` will run on a CUDA GPU (declared to the
    scheduler as ``resources: gpu=1``). ``auto`` without importing torch in this process: no
    NVIDIA device node (Linux) means no GPU at once; otherwise torch answers in a subprocess."""
    if device in ("cpu", "cuda"):
        return device == "cuda"
    if os.name == "posix" and not glob.glob("/dev/nvidia[0-9]*"):
        return False
    probe = "import torch; print(int(torch.cuda.is_available()))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    return done.stdout.strip() == "1"
