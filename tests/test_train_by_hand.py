"""`advmim train --configfile ... --method --labeled --seed`: one run trained by hand gets exactly
the settings the workflow gives it (the README's command, on the tiny phantom)."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from advmim.cli import main
from tests.workflow_utils import ROOT, snakemake

ADVMIM = Path(sys.executable).parent / "advmim"
TINY = ROOT / ".test" / "config" / "config.yaml"


def readme_train_command() -> list[str]:
    """The README's "Train one run by hand" command, as argv (without the program)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Train one run by hand", 1)[1].split("\n## ", 1)[0]
    (line,) = [ln for ln in section.splitlines() if re.match(r"\.venv/bin/advmim train ", ln)]
    return shlex.split(line.split("#")[0])[1:]


def with_values(argv: list[str], **values: str) -> list[str]:
    """``argv`` with the value after each ``--key`` replaced (the command's shape is kept)."""
    out = list(argv)
    for key, value in values.items():
        out[out.index(f"--{key}") + 1] = value
    return out


def test_readme_command_gives_the_workflows_settings(phantom_data, tmp_path):
    argv = readme_train_command()
    assert argv[:2] == ["train", "--configfile"] and {"--method", "--labeled", "--seed"} <= set(argv)
    shutil.copytree(phantom_data, tmp_path / "results" / "data" / "phantom")
    argv = with_values(argv, configfile=str(TINY), method="supervised_unet", labeled="2", seed="0")
    done = subprocess.run([str(ADVMIM), *argv, "--no-progress"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "results" / "runs" / "phantom" / "supervised_unet" / "L2" / "seed0"
    assert (run / "model.pt").is_file()
    by_hand = json.loads((run / "config.json").read_text())

    other = tmp_path / "wf"  # the workflow's settings file of the same run, in another folder
    wf = snakemake(other, TINY, "--cores", "1", str(run.relative_to(tmp_path) / "settings.json"))
    assert wf.returncode == 0, wf.stderr
    assert json.loads((other / run.relative_to(tmp_path) / "settings.json").read_text()) == by_hand
    assert by_hand["method"] == "supervised_unet" and by_hand["labeled"] == 2 and by_hand["iterations"] == 2


def test_configfiles_merge_in_order_over_the_default(tmp_path):
    from advmim import runs

    first = tmp_path / "a.yaml"
    first.write_text("training: {iterations: 7, lr: 0.2}\nmodels: {unet: {channels: [4, 8, 16, 32, 64]}}\n")
    second = tmp_path / "b.yaml"
    second.write_text("training: {lr: 0.3}\n")
    settings = runs.job_settings(runs.load_configs([first, second]), "mean_teacher", 2, 5)
    assert (settings["iterations"], settings["lr"], settings["seed"]) == (7, 0.3, 5)
    assert settings["models"]["unet"]["channels"] == [4, 8, 16, 32, 64]
    assert settings["models"]["discriminator"]["base"] == 16  # from config/config.yaml


def test_bad_command_lines_fail_with_one_line(tmp_path, capsys):
    assert main(["train", "--configfile", str(TINY), "--method", "supervised_unet"]) == 2
    assert "--configfile needs --labeled, --seed" in capsys.readouterr().err
    assert main(["train", "--settings", "{}", "--seed", "1", "--data", str(tmp_path),
                 "--out", str(tmp_path / "r")]) == 2
    assert "--seed: only with --configfile" in capsys.readouterr().err
    assert main(["train", "--configfile", str(TINY), "--method", "abl-nope", "--labeled", "2",
                 "--seed", "0"]) == 2
    assert "'abl-nope': no such ablation variant" in capsys.readouterr().err
