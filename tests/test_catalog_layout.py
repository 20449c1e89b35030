"""Snakemake workflow catalog layout: workflow/Snakefile (the root Snakefile points to it), the
default workflow profile, the tiny config of .test/, and `make run` that keeps going."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
TINY = ROOT / ".test" / "config" / "config.yaml"


@pytest.mark.parametrize("snakefile", [[], ["-s", "workflow/Snakefile"]], ids=["root", "workflow"])
def test_both_snakefiles_plan_the_tiny_config_with_the_default_profile(tmp_path, snakefile):
    proc = subprocess.run([str(SNAKEMAKE), *snakefile, "-n", "--directory", str(tmp_path),
                           "--configfile", str(TINY)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "Using workflow specific profile profiles/default" in log
    assert "rule train:" in proc.stdout and "rule all:" in proc.stdout  # rule all: default target
    assert not (tmp_path / "results").exists()


def test_default_profile_is_the_one_local_profile_and_keeps_going():
    profile = ROOT / "workflow" / "profiles" / "default" / "config.yaml"
    assert yaml.safe_load(profile.read_text())["keep-going"] is True
    for link in ("default", "local"):
        assert (ROOT / "profiles" / link / "config.yaml").resolve() == profile.resolve()
    make = subprocess.run(["make", "-n", "run", "VENV=" + str(Path(sys.executable).parents[1])],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    command = next(line for line in make.stdout.splitlines() if "snakemake" in line)
    assert "--keep-going" in command.split(), make.stdout
