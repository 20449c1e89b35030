"""DVC versioning (docs/dvc.md): summary/curve writers, `advmim dvc-sync`, and one end-to-end run.

The slow test builds a throw-away git + DVC repository from the repo's workflow files and
.test/config/config.yaml, runs `dvc repro`, commits, pushes to a local remote, then works in a
fresh `git clone` (no DVC cache, no outputs, no .snakemake metadata): `dvc pull`, shows that
Snakemake would re-run jobs (the mtime trap), `advmim dvc-sync --no-pull`, and checks that
`snakemake -n` schedules nothing and `dvc metrics show` / `dvc plots show` read the results.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / ".test" / "config" / "config.yaml"
VENV_BIN = Path(sys.executable).parent
NOTHING = "Nothing to be done"


# --- unit tests (fast) ----------------------------------------------------------------------

def _metrics(method, labeled, seed, dice, hd95, network="C", variant=None):
    return {"dataset": "phantom", "method": method, "variant": variant, "labeled": labeled,
            "seed": seed, "mode": "paper", "iterations": 10, "classes": ["RV"],
            "networks": {network: {"per_volume": [{"case": "patient001_frame01", "dice": {"RV": dice},
                                                   "hd95": {"RV": hd95}}],
                                   "mean": {"dice": {"RV": dice, "mean": dice},
                                            "hd95": {"RV": hd95, "mean": hd95}}}}}


def test_summary_means_over_seeds():
    from advmim.report.summary import summarize

    out = summarize([
        _metrics("advmim", 3, 1, 0.8, 2.0, "S"), _metrics("advmim", 3, 2, 0.6, 4.0, "S"),
        _metrics("advmim", 3, 1, 0.7, 3.0, "C"), _metrics("mean_teacher", 7, 1, 0.5, 9.0),
        _metrics("advmim", 3, 1, 0.1, 1.0, "S", variant="no_adv"),
    ])
    assert out["dataset"] == "phantom" and out["iterations"] == 10
    s = out["results"]["advmim"]["S"]["L3"]
    assert s["dice"] == pytest.approx(0.7) and s["hd95"] == pytest.approx(3.0)
    assert s["dice_std"] == pytest.approx(0.141421, abs=1e-6) and s["n_seeds"] == 2
    assert out["results"]["advmim"]["C"]["L3"]["dice_std"] is None  # one seed
    assert out["results"]["mean_teacher"]["C"]["L7"]["n_seeds"] == 1
    assert out["results"]["advmim:no_adv"]["S"]["L3"]["dice"] == pytest.approx(0.1)
    json.dumps(out, allow_nan=False)  # valid strict JSON


def test_downsample_bins_and_keeps_short_logs():
    from advmim.report.summary import downsample

    rows = [{"iteration": str(i), "loss": str(float(i)), "note": "x"} for i in range(1, 11)]
    assert downsample(rows, 10) is rows
    out = downsample(rows, 4)  # bins of 3: 1-3, 4-6, 7-9, 10
    assert [r["iteration"] for r in out] == ["3", "6", "9", "10"]
    assert [float(r["loss"]) for r in out] == [2.0, 5.0, 8.0, 10.0]
    assert out[0]["note"] == "x"
    with pytest.raises(ValueError):
        downsample(rows, 0)


def test_write_curves_names_and_columns(tmp_path):
    from advmim.errors import InputError
    from advmim.report.summary import write_curves

    run = tmp_path / "runs" / "phantom" / "advmim" / "L3" / "seed1"
    run.mkdir(parents=True)
    with open(run / "train_log.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["iteration", "lr", "loss", "sup_S"])
        w.writerows([[i, 0.01, 1.0 / i, 0.5] for i in range(1, 1001)])
    (run / "model.pt").write_bytes(b"")
    [out] = write_curves([run / "model.pt"], tmp_path / "plots", max_points=100)
    assert out.name == "advmim_L3_seed1.csv"
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 100 and list(rows[0]) == ["iteration", "lr", "loss", "sup_S"]
    assert rows[-1]["iteration"] == "1000"
    with pytest.raises(InputError, match="train_log.csv"):
        write_curves([tmp_path / "missing"], tmp_path / "plots")


def test_summarize_command(tmp_path):
    from advmim.cli import main

    files = []
    for seed in (1, 2):
        f = tmp_path / f"seed{seed}.json"
        f.write_text(json.dumps(_metrics("supervised_unet", 2, seed, 0.5 + seed / 10, 3.0)))
        files.append(str(f))
    out = tmp_path / "summary.json"
    assert main(["summarize", "--metrics", *files, "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["results"]["supervised_unet"]["C"]["L2"]["dice"] == pytest.approx(0.65)
    assert main(["summarize", "--metrics", *files, "--out", str(out), "--runs", "x"]) == 2


def test_dvc_sync_commands():
    from advmim.commands.dvc_sync import changed_stages, pull_command, touch_command

    assert pull_command()[1:] == ["-m", "dvc", "pull"]
    assert pull_command(["results/runs"], 4)[4:] == ["--jobs", "4", "results/runs"]
    assert touch_command("c.yaml")[1:] == ["-m", "snakemake", "--touch", "--forceall", "--cores",
                                          "1", "--configfile", "c.yaml"]
    assert changed_stages({}) == []
    assert changed_stages({"workflow": [{"changed deps": {"advmim": "modified"}}], "x": []}) == [
        "workflow"]


def test_dvc_yaml_declares_the_workflow_outputs():
    import yaml

    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["workflow"]
    assert stage["params"] == [{"config/config.yaml": None}]  # whole config file, no params.yaml
    outs = {next(iter(o)): o[next(iter(o))] for o in stage["outs"]}
    assert all(props.get("persist") for props in outs.values())
    assert outs["${results_dir}/runs/${dataset.name}"].get("cache", True)
    assert outs["${results_dir}/metrics/${dataset.name}"]["cache"] is False
    [metric] = stage["metrics"]
    assert metric["${results_dir}/metrics/${dataset.name}_summary.json"]["cache"] is False


# --- end to end (slow) ------------------------------------------------------------------------

def _env(tmp_path: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    env["DVC_SITE_CACHE_DIR"] = str(tmp_path / "dvc-site-cache")
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "advmim test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "test@example.org"
    env.pop("PYTHONPATH", None)
    return env


class Runner:
    """subprocess.run with a timeout, a shared environment and a log of (command, seconds)."""

    def __init__(self, env: dict):
        self.env = env
        self.timings: list[tuple[str, float]] = []

    def __call__(self, cmd: list[str], cwd: Path, timeout: int = 120, check: bool = True):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        words = cmd[2:4] if cmd[0] == sys.executable else cmd[:2]
        self.timings.append((" ".join(words), time.perf_counter() - t0))
        if check:
            assert proc.returncode == 0, (
                f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                f"{proc.stderr[-3000:]}")
        return proc


def _make_repo(repo: Path) -> None:
    repo.mkdir()
    for name in ("Snakefile", "dvc.yaml", ".dvcignore", ".gitignore", "environment.yml"):
        shutil.copy2(ROOT / name, repo / name)
    ignore = shutil.ignore_patterns("*.egg-info", ".snakemake*")
    shutil.copytree(ROOT / "workflow", repo / "workflow", ignore=ignore)
    shutil.copytree(ROOT / "config", repo / "config", ignore=ignore)
    # the package is a DVC dependency; its byte code comes along (ignored by .dvcignore/.gitignore)
    shutil.copytree(ROOT / "advmim", repo / "advmim", ignore=ignore)
    shutil.copy2(TINY, repo / "config" / "config.yaml")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_dvc_repro_push_clone_pull_sync(tmp_path):
    run = Runner(_env(tmp_path))
    py = [sys.executable]
    dvc = [*py, "-m", "dvc"]
    snakemake = [*py, "-m", "snakemake"]
    repo, clone, remote = tmp_path / "repo", tmp_path / "clone", tmp_path / "remote"
    t_start = time.perf_counter()

    _make_repo(repo)
    run(["git", "init", "-q"], repo)
    run([*dvc, "init", "-q"], repo)
    run([*dvc, "remote", "add", "-d", "local", str(remote)], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "workflow"], repo)

    run([*dvc, "repro"], repo, timeout=600)
    status = run(["git", "status", "--porcelain", "--untracked-files=all"], repo).stdout
    # cache: false results are for git; cached outs and logs are ignored
    assert "results/metrics/phantom_summary.json" in status
    assert "results/metrics/phantom/supervised_unet/L2/seed0.json" in status
    assert "results/plots/phantom/supervised_unet_L2_seed0.csv" in status
    assert "dvc.lock" in status
    assert "results/runs" not in status and "results/logs" not in status
    assert ".snakemake_timestamp" not in status
    run(["git", "add", "-A"], repo)
    run(["git", "commit", "-q", "-m", "results"], repo)
    run([*dvc, "push", "-q"], repo)
    assert any(remote.rglob("*")), "nothing pushed to the local remote"

    # A collaborator: fresh clone (no DVC cache, no outputs, no Snakemake metadata).
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    assert not (clone / "results" / "runs").exists()
    assert not (clone / ".dvc" / "cache").exists()
    run([*dvc, "pull", "-q"], clone)
    assert (clone / "results/runs/phantom/supervised_unet/L2/seed0/model.pt").exists()
    assert (clone / "results/data/phantom/dataset.json").exists()

    # The mtime trap: git-checked-out metrics are older than the pulled checkpoints.
    trapped = run([*snakemake, "-n", "--cores", "1"], clone)
    assert NOTHING not in trapped.stdout + trapped.stderr

    sync = run([*py, "-m", "advmim", "dvc-sync", "--no-pull"], clone, timeout=300)
    assert "marked up to date" in sync.stdout

    dry = run([*snakemake, "-n", "--cores", "1"], clone)
    assert NOTHING in dry.stdout + dry.stderr, dry.stdout + dry.stderr
    # the touch recorded metadata: a changed training setting re-trains, even in the clone
    cfg = clone / "config" / "config.yaml"
    original = cfg.read_text()
    assert "iterations: 2\n" in original
    cfg.write_text(original.replace("iterations: 2\n", "iterations: 3\n"))
    changed = run([*snakemake, "-n", "--cores", "1"], clone)
    out = changed.stdout + changed.stderr
    assert "rule train:" in out and "params have changed" in out.lower(), out
    cfg.write_text(original)
    assert run([*dvc, "status", "--json"], clone).stdout.strip() in ("{}", "")
    repro = run([*dvc, "repro"], clone)
    assert "didn't change" in repro.stdout + repro.stderr

    shown = run([*dvc, "metrics", "show"], clone).stdout
    assert "results.supervised_unet.C.L2.dice" in shown, shown
    assert any(tok.replace(".", "", 1).isdigit() for tok in shown.split()), shown
    plots = json.loads(run([*dvc, "plots", "show", "--json"], clone).stdout)
    assert not plots.get("errors"), plots["errors"]
    assert any("supervised_unet_L2_seed0.csv" in name for name in plots["data"])

    total = time.perf_counter() - t_start
    print(f"\ntotal {total:.1f} s; " + "; ".join(f"{c}: {s:.1f} s" for c, s in run.timings))
