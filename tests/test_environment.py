"""The conda environment files and pyproject.toml (pip) declare the same dependencies:
environment.yml (working on the project: runtime + test, the package itself with `-e .`) and
workflow/envs/advmim.yaml (every rule under `snakemake --use-conda`: runtime only; its post-deploy
script installs the package from the repository)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _name(req: str) -> str:
    return re.split(r"[<>=!\[ ]", req.strip(), maxsplit=1)[0].lower()


def _pip_packages(path: Path) -> set[str]:
    env = yaml.safe_load(path.read_text())
    pip_block = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    return {_name(r) for r in pip_block if not r.startswith("-e")}


def test_conda_and_pip_declare_the_same_packages():
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    test = {_name(r) for r in PROJECT["optional-dependencies"]["test"]}
    assert _pip_packages(ROOT / "environment.yml") == runtime | test
    assert _pip_packages(ROOT / "workflow" / "envs" / "advmim.yaml") == runtime


def test_rule_environment_installs_the_package_from_the_repository():
    """Snakemake copies the env file under .snakemake/conda/ (a relative `-e .` would point there):
    the post-deploy script beside it installs from ADVMIM_ROOT, which the workflow sets and passes
    on (envvars)."""
    env = yaml.safe_load((ROOT / "workflow" / "envs" / "advmim.yaml").read_text())
    pip_block = next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert not any(r.startswith("-e") or r.startswith(".") for r in pip_block)
    script = (ROOT / "workflow" / "envs" / "advmim.post-deploy.sh").read_text()
    assert 'pip install --quiet --no-deps -e "$ADVMIM_ROOT"' in script
    assert 'os.environ["ADVMIM_ROOT"] = REPO' in (ROOT / "workflow" / "rules" / "common.smk").read_text()
    assert '"ADVMIM_ROOT",' in (ROOT / "workflow" / "Snakefile").read_text()
