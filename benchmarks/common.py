"""Helpers shared by the benchmark scripts: run settings at paper/default sizes, random batches,
timing and memory figures. Importable as ``benchmarks.common`` (tests) and as ``common`` (scripts).
"""

from __future__ import annotations

import copy
import hashlib
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from advmim.config import load_config, run_settings
from advmim.data.registry import get_dataset
from advmim.methods import Batch, get_method

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "config" / "config.yaml"

# Paper network sizes (shared spec method.md): SSL4MIS U-Net and Swin-UNet "lite" (Swin-T widths).
PAPER_MODELS = {
    "unet": {"channels": [16, 32, 64, 128, 256]},
    "swin_unet": {
        "embed_dim": 96,
        "depths": [2, 2, 2, 2],
        "num_heads": [3, 6, 12, 24],
        "window_size": 7,
        "drop_path_rate": 0.2,
        "pretrained": None,
    },
}
PAPER_MASK_BLOCK = 32


def bench_settings(
    method: str,
    size: int | None = None,
    batch: int | None = None,
    config_path: str | Path = DEFAULT_CONFIG,
    paper: bool = False,
    seed: int = 1337,
) -> dict:
    """Run settings of ``method`` from a config, optionally at paper network sizes.

    ``paper`` (implied by ``size == 224``) swaps in the paper model sizes and mask block 32;
    ``size``/``batch`` override img_size and both batch sizes (labeled = unlabeled = batch).
    """
    config = load_config(config_path)
    paper = paper or size == 224
    settings = run_settings(config, method, config["labeled"][0], seed)
    settings["models"] = copy.deepcopy(PAPER_MODELS if paper else settings.get("models", {}))
    if "swin_unet" in settings["models"]:
        settings["models"]["swin_unet"]["pretrained"] = None  # never reach for weights here
    if paper:
        settings["img_size"] = size or 224
        if "mask_block" in settings["method_params"]:
            settings["method_params"]["mask_block"] = PAPER_MASK_BLOCK
    if size is not None:
        settings["img_size"] = size
    if batch is not None:
        settings["batch_labeled"] = settings["batch_unlabeled"] = batch
    settings["device"] = "cpu"
    return settings


def add_override_option(parser) -> None:
    """``--override JSON``, read by :func:`bench_config`."""
    parser.add_argument("--override", default=None,
                        help="JSON config fragment (training, models, method_params, dataset...) "
                             "merged over config/config.yaml and validated; its runs are kept "
                             "apart, and a changed dataset or labeled list gets its own data")


def bench_config(override: str | None, work: Path) -> tuple[dict, Path]:
    """config/config.yaml with ``override`` (a JSON config fragment, merged as ``--configfile``
    merges one) over it, validated; and the folder under ``work`` for its runs: ``runs``, or
    ``runs-<hash of the override>`` so that two designs never share a run."""
    from advmim.config import validate_config
    from advmim.plan import merge_configs

    config = load_config(DEFAULT_CONFIG)
    if not override:
        return config, work / "runs"
    config = validate_config(merge_configs(config, json.loads(override)), "--override")
    return config, work / f"runs-{hashlib.sha256(override.encode()).hexdigest()[:8]}"


def make_default_data(work: Path, advmim, config: dict | None = None) -> Path:
    """The dataset of ``config`` (default: the embedded default's phantom; its size, zoom, split
    and labeled subsets), made by its plug-in's commands and converted once under ``work/data``
    (``work/data-<hash>`` when its dataset or labeled subsets differ from the default's);
    ``advmim(*args)`` runs the command line."""
    default = load_config(DEFAULT_CONFIG)
    config = config or default
    key = {"dataset": config["dataset"], "labeled": config["labeled"]}
    tag = "" if key == {"dataset": default["dataset"], "labeled": default["labeled"]} else (
        "-" + hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8])
    data, raw = work / f"data{tag}", work / f"raw{tag}"
    if (data / "dataset.json").is_file():
        return data
    ds = config["dataset"]
    plugin = get_dataset(ds["name"])  # the workflow's own raw-data and convert arguments
    advmim(*plugin.raw_command(ds), "--out", str(raw))
    advmim("convert", plugin.name, "--raw", str(raw / "database"), "--out", str(data),
           *plugin.convert_arguments(ds, config["labeled"]))
    return data


def advmim_cli(*args: str) -> None:
    """Run the package's command line (``python -m advmim ...``) in the repository; raise on failure."""
    subprocess.run([sys.executable, "-m", "advmim", *args], cwd=REPO, check=True,
                   capture_output=True, text=True)


def metrics_file(run: Path, split: str) -> Path:
    """Where :func:`train_and_evaluate` keeps the evaluation of ``run`` on ``split``."""
    return run.parent / f"{run.name}_{split}.json"


def train_and_evaluate(settings: dict, data: Path, run: Path, splits: tuple[str, ...] = ("val",)) -> dict:
    """Train ``settings`` into ``run`` (one thread, CPU) and evaluate it on each split; both steps
    are skipped when their outputs exist (resumable). Returns {split: {network: mean Dice (0-1)}}."""
    if not (run / "model.pt").is_file():
        advmim_cli("train", "--data", str(data), "--settings", json.dumps(settings), "--out", str(run),
                   "--threads", "1", "--device", "cpu", "--no-progress")
    dice = {}
    for split in splits:
        metrics = metrics_file(run, split)
        if not metrics.is_file():
            advmim_cli("evaluate", "--model", str(run / "model.pt"), "--data", str(data),
                       "--out", str(metrics), "--split", split, "--threads", "1")
        networks = json.loads(metrics.read_text())["networks"]
        dice[split] = {net: value["mean"]["dice"]["mean"] for net, value in networks.items()}
    return dice


def emit(lines: list[str], out: Path | None) -> None:
    """Print a benchmark's result lines and, with ``out``, write them there too."""
    text = "\n".join(lines)
    print(text)
    if out:
        out.write_text(text + "\n", encoding="utf-8")


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample std (0 for one value) of Dice fractions, in percent."""
    pct = [100 * v for v in values]
    return statistics.mean(pct), (statistics.stdev(pct) if len(pct) > 1 else 0.0)


def build_method(settings: dict, device: torch.device | str = "cpu"):
    torch.manual_seed(settings["seed"])
    return get_method(settings["method"])(settings, torch.device(device))


def random_batch(settings: dict, seed: int = 0, device: torch.device | str = "cpu") -> Batch:
    """A labeled + unlabeled batch of random images and labels at the run's size."""
    gen = torch.Generator().manual_seed(seed)
    s, nl, nu = settings["img_size"], settings["batch_labeled"], settings["batch_unlabeled"]
    xl = torch.rand(nl, 1, s, s, generator=gen)
    yl = torch.randint(0, settings["num_classes"], (nl, s, s), generator=gen)
    xu = torch.rand(nu, 1, s, s, generator=gen)
    if not get_method(settings["method"]).uses_unlabeled:
        xu = None
    return Batch(xl.to(device), yl.to(device), None if xu is None else xu.to(device))


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_ms(times_s: list[float]) -> float:
    return statistics.median(times_s) * 1000


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def machine(device: torch.device | str = "cpu") -> str:
    """A one-line description of this machine (CPU model, cores, torch version; the GPU's name
    and memory for a CUDA ``device``)."""
    device = torch.device(device)
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name}, {props.total_memory / 2**30:.0f} GiB, torch {torch.__version__}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}"


def load_average() -> str:
    import os

    return " ".join(f"{v:.2f}" for v in os.getloadavg())
