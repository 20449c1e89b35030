"""Compute plan: device-hours to regenerate every table from measured training step times.

Step times (ms per training iteration, per method) are measured by
``benchmarks/train_step.py --record`` and stored in ``benchmarks/step_times.json``; every entry
names the device it was measured on. A plan only uses the entries of one device and says which:
CPU step times give CPU-hours, and GPU-hours need step times measured on a GPU.

Runs counted: the training jobs of the chosen targets (``main``: the main table, ``ablations``:
the ablation table), from :func:`advmim.jobs.train_jobs` -- the list the workflow builds its
DAG from -- with each job's own training settings (``method_training`` and ablation overrides
included). Evaluation is not counted (seconds per run next to hours of training).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

from advmim.errors import ConfigError
from advmim.jobs import TARGETS, train_jobs

STEP_TIMES_NOTE = (
    "ms per training iteration (Method.train_step, fp32) measured by benchmarks/train_step.py "
    "--record; 'device' says where. CPU numbers do not predict GPU time: measure on the GPU "
    "the plan is for."
)


def load_step_times(path: str | Path) -> dict:
    """The step-times file: ``{"note": ..., "entries": [{method, device, ms_per_iter, ...}]}``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"{path}: no step-times file; measure with "
            "'python benchmarks/train_step.py --method M --size 224 --batch 8 --record'"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from exc
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: expected an object with an 'entries' list")
    for i, e in enumerate(entries):
        missing = {"method", "device", "ms_per_iter"} - set(e)
        if missing:
            raise ConfigError(f"{path}: entry {i} lacks {', '.join(sorted(missing))}")
    return data


def save_step_times(path: str | Path, data: dict) -> None:
    data = {"note": STEP_TIMES_NOTE, **{k: v for k, v in data.items() if k != "note"}}
    data["entries"] = sorted(data["entries"], key=lambda e: (e["device"], e["method"]))
    Path(path).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


@dataclass
class PlanRow:
    dataset: str
    run: str            # method name, or abl-<variant>
    method: str
    runs: int           # training jobs: labeled ratios x seeds (upper bounds: seeds)
    iterations: int
    ms_per_iter: float | None  # measured at this run's image and batch sizes (None: not measured)

    @property
    def hours(self) -> float | None:
        if self.ms_per_iter is None:
            return None
        return self.runs * self.iterations * self.ms_per_iter / 1000 / 3600


@dataclass
class Plan:
    device: str
    device_name: str
    rows: list[PlanRow] = field(default_factory=list)
    targets: tuple[str, ...] = TARGETS

    @property
    def total_hours(self) -> float:
        return sum(r.hours for r in self.rows if r.hours is not None)

    @property
    def missing(self) -> list[str]:
        return sorted({r.method for r in self.rows if r.ms_per_iter is None})


def choose_device(entries: list[dict], device: str | None, methods: set[str]) -> str:
    """The requested device, else the one whose entries cover most of ``methods``."""
    devices = sorted({e["device"] for e in entries})
    if not devices:
        raise ConfigError("the step-times file has no entries")
    if device is not None:
        if device not in devices:
            raise ConfigError(f"no step times measured on {device!r}; have: {', '.join(devices)}")
        return device
    return max(devices, key=lambda d: (len({e["method"] for e in entries if e["device"] == d} & methods), d))


def _pick(entries: list[dict], method: str, training: dict) -> dict | None:
    """The entry for ``method`` measured at the run's image and batch sizes (None: not measured).

    Step times do not transfer between sizes (a 64 px step says little about a 224 px one), so
    an entry at other sizes is not used, nor one measured with another ``amp`` or ``compile``
    setting (entries without them are fp32, not compiled).
    """
    want = (training["img_size"], training["batch_labeled"], training.get("amp", "off"),
            bool(training.get("compile", False)))
    for e in entries:
        got = (e.get("img_size"), e.get("batch_labeled"), e.get("amp", "off"), bool(e.get("compile", False)))
        if e["method"] == method and got == want:
            return e
    return None


def gpu_devices(step_times: dict) -> list[str]:
    """The GPU devices (``cuda``...) that the step-times file has entries for."""
    return sorted({e["device"] for e in step_times["entries"] if e["device"].startswith("cuda")})


def merge_configs(base: dict, override: dict) -> dict:
    """``override`` merged over ``base`` by the very function Snakemake merges each
    ``--configfile`` with (``snakemake.utils.update_config``: nested mappings merged, other values
    replaced), so the plan reads the configuration the DAG reads."""
    from snakemake.utils import update_config

    out = copy.deepcopy(base)
    update_config(out, copy.deepcopy(override))
    return out


def make_plan(configs: list[dict], step_times: dict, device: str | None = None,
              targets=TARGETS) -> Plan:
    """One row per (dataset, method or ablation variant) of the workflow's training jobs."""
    from advmim.config import run_settings

    entries = step_times["entries"]
    jobs = {id(c): train_jobs(c, targets) for c in configs}
    wanted = {j.method for js in jobs.values() for j in js}
    dev = choose_device(entries, device, wanted)
    entries = [e for e in entries if e["device"] == dev]
    names = sorted({e.get("device_name", dev) for e in entries})
    plan = Plan(device=dev, device_name="; ".join(names), targets=tuple(targets))
    for c in configs:
        rows: dict[str, PlanRow] = {}
        for job in jobs[id(c)]:
            training = run_settings(c, job.method, job.labeled, job.seed, job.variant)
            if job.run in rows:
                rows[job.run].runs += 1
                continue
            entry = _pick(entries, job.method, training)
            rows[job.run] = PlanRow(
                dataset=c["dataset"]["name"], run=job.run, method=job.method, runs=1,
                iterations=int(training["iterations"]),
                ms_per_iter=None if entry is None else float(entry["ms_per_iter"]),
            )
        plan.rows.extend(rows.values())
    return plan


def render(plan: Plan, console=None) -> None:
    """Print the plan as a rich table with the total and the device the numbers come from."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    unit = "GPU-h" if plan.device.startswith("cuda") or plan.device == "gpu" else f"{plan.device}-h"
    table = Table(title=f"Compute plan of the training jobs of {' + '.join(plan.targets)} "
                        f"(step times measured on {plan.device}: {plan.device_name})")
    for col in ("dataset", "run", "runs", "iterations", "ms/iter", unit):
        table.add_column(col, justify="left" if col in ("dataset", "run") else "right")
    for r in plan.rows:
        ms = "missing" if r.ms_per_iter is None else f"{r.ms_per_iter:,.0f}"
        hours = "-" if r.hours is None else f"{r.hours:,.1f}"
        table.add_row(r.dataset, r.run, str(r.runs), f"{r.iterations:,}", ms, hours)
    table.add_section()
    table.add_row("total", "", str(sum(r.runs for r in plan.rows)), "", "", f"{plan.total_hours:,.1f}")
    console.print(table)
    if plan.missing:
        console.print(
            f"[yellow]no step time at these runs' image/batch sizes for: "
            f"{', '.join(plan.missing)} (not in the total)"
        )
    if not plan.device.startswith("cuda"):
        console.print(
            f"[bold]These are {plan.device.upper()} hours: the step times were measured on "
            f"{plan.device}. GPU-hours need step times measured on the GPU "
            "(python benchmarks/gpu_check.py --record there, or benchmarks/train_step.py "
            "--method M --size 224 --batch 8 --device cuda --record)."
        )
    console.print(f"total: {plan.total_hours:,.1f} {unit}")
