"""environment.yml (conda) and pyproject.toml (pip) declare the same dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!\[ ]", req.strip(), maxsplit=1)[0].lower()


def test_conda_and_pip_declare_the_same_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    conda = {_name(r) for r in pip_block if not r.startswith("-e")}
    assert pip == conda
