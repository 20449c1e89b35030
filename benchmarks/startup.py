"""Wall time of the smallest jobs: a one-iteration ``advmim train`` (labeled-only U-Net, embedded
default) and ``advmim evaluate`` of its model, this checkout vs a git revision, alternating.

Usage: python benchmarks/startup.py [--before REV] [--repeats 5] [--method supervised_unet]
       [--work DIR]

Each revision trains with its own ``config/config.yaml`` (iterations set to 1) on the embedded
default's phantom (made once under ``--work``), one thread, CPU. Per repeat: train after, train
before, evaluate after, evaluate before, each a fresh interpreter. Prints the median wall time
per job and revision and the ratio after / before (``python -X importtime -m advmim ...`` tells
where a job's start-up goes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from revisions import ROOT, env_for, revision_tree  # noqa: E402

SETTINGS = """
import json, sys
from advmim.config import load_config, run_settings
config = load_config("config/config.yaml")
settings = run_settings(config, sys.argv[1], config["labeled"][0], config["seeds"][0])
settings.update(iterations=1, device="cpu", threads=1)
print(json.dumps(settings))
"""


def wall(cmd: list[str], tree: Path) -> float:
    """Seconds of one command run in ``tree`` with that tree's package."""
    t = time.perf_counter()
    subprocess.run(cmd, cwd=tree, env=env_for(tree), check=True, capture_output=True)
    return time.perf_counter() - t


def job_commands(tree: Path, method: str, data: Path, work: Path) -> tuple[list[str], list[str]]:
    settings = subprocess.run([sys.executable, "-c", SETTINGS, method], cwd=tree, env=env_for(tree),
                              check=True, capture_output=True, text=True).stdout
    (work / "settings.json").write_text(settings)
    run, metrics = work / "run", work / "metrics.json"
    advmim = [sys.executable, "-m", "advmim"]
    train = [*advmim, "train", "--data", str(data), "--settings-file", str(work / "settings.json"),
             "--out", str(run), "--no-progress"]
    evaluate = [*advmim, "evaluate", "--model", str(run / "model.pt"), "--data", str(data),
                "--out", str(metrics), "--split", "val", "--threads", "1", "--overwrite"]
    return train, evaluate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", help="git revision to compare with (a worktree is made)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--method", default="supervised_unet")
    ap.add_argument("--work", type=Path, default=None, help="folder for the phantom and runs")
    args = ap.parse_args()
    from common import advmim_cli, make_default_data

    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        data = make_default_data(work, advmim_cli)
        trees = {"after": ROOT}
        if args.before:
            trees["before"] = stack.enter_context(revision_tree(args.before))
        commands = {}
        for name, tree in trees.items():
            (work / name).mkdir(parents=True, exist_ok=True)
            commands[name] = job_commands(tree, args.method, data, work / name)
        times = {(job, name): [] for job in ("train", "evaluate") for name in trees}
        for _ in range(args.repeats):
            for j, job in enumerate(("train", "evaluate")):
                for name, tree in trees.items():
                    if job == "train":
                        shutil.rmtree(work / name / "run", ignore_errors=True)
                    else:
                        (work / name / "metrics.json").unlink(missing_ok=True)
                    times[job, name].append(wall(commands[name][j], tree))
    for (job, name), values in times.items():
        print(f"{job} {name}: median {statistics.median(values):.2f} s "
              f"({', '.join(f'{v:.2f}' for v in values)})")
    if args.before:
        for job in ("train", "evaluate"):
            ratio = statistics.median(times[job, "after"]) / statistics.median(times[job, "before"])
            print(f"{job}_after_over_before={ratio:.3f}")
    print(json.dumps({f"{job}_{name}_s": round(statistics.median(v), 2) for (job, name), v in times.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
