"""A method defined outside the package (docs/adding-a-method.md's example) registers like a
built-in one and runs against the baselines through the real workflow."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from advmim.config import validate_config
from advmim.errors import ConfigError
from tests.workflow_utils import ROOT, snakemake, tiny_config, write_config

DOC = ROOT / "docs" / "adding-a-method.md"


def example_code() -> str:
    """The first Python block of the page's 'The example' section, as a user would copy it."""
    section = DOC.read_text().split("## The example", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def write_example(folder: Path) -> Path:
    path = folder / "my_lab" / "self_training.py"
    path.parent.mkdir(parents=True)
    path.write_text(example_code())
    return path


@pytest.mark.slow
def test_bring_your_own_method_through_snakemake(tmp_path):
    workdir = tmp_path / "study"
    workdir.mkdir()
    write_example(workdir)
    config = tiny_config(workdir / "results", methods=("supervised_unet", "self_training"))
    config["labeled"] = [1]
    config["plugins"] = ["my_lab/self_training.py"]  # relative to where snakemake runs
    config["method_params"]["self_training"] = {"threshold": 0.5}
    configfile = write_config(workdir / "compare.yaml", config)
    done = snakemake(workdir, configfile, "--cores", "2", str(workdir / "results/tables/phantom.md"))
    assert done.returncode == 0, done.stderr[-3000:]
    table = (workdir / "results" / "tables" / "phantom.md").read_text()
    row = next(ln for ln in table.splitlines() if ln.startswith("| Self-training (conf. 0.9) |"))
    cells = row.split("|")[2:-1]
    assert len(cells) == 3 and all(re.search(r"\d+\.\d+", c) for c in cells[:2])  # Dice, HD95
    assert re.fullmatch(r" \d+ ", cells[2])  # missed structures
    log = next((workdir / "results" / "runs").rglob("self_training/L1/seed1337/train_log.csv"))
    assert "cons" in log.read_text().splitlines()[0]


def test_plugin_validated_like_a_built_in(tmp_path):
    path = write_example(tmp_path)
    config = tiny_config(tmp_path / "results", methods=("self_training",))
    config["plugins"] = [str(path)]
    config["method_params"]["self_training"] = {"threshold": 0.5}
    validate_config(config)
    from advmim.config import run_settings

    settings = run_settings(config, "self_training", 1, 0)
    assert settings["method_params"]["threshold"] == 0.5 and settings["plugins"] == [str(path)]
    config["method_params"]["self_training"] = {"treshold": 0.5}
    with pytest.raises(ConfigError, match="unknown parameter"):
        run_settings(config, "self_training", 1, 0)
    config["plugins"] = [str(tmp_path / "missing.py")]
    with pytest.raises(ConfigError, match=r"plugins: cannot load '.*missing\.py': file not found"):
        validate_config(config)
    config["plugins"] = ["no_such_module_here"]
    with pytest.raises(ConfigError, match="plugins: cannot load 'no_such_module_here'"):
        validate_config(config)


def test_installed_entry_point_registers_without_config(tmp_path):
    """A distribution declaring the module in the ``advmim.methods`` entry-point group."""
    site = tmp_path / "site"
    (site / "my_lab").mkdir(parents=True)
    (site / "my_lab" / "__init__.py").write_text("")
    (site / "my_lab" / "self_training.py").write_text(example_code())
    info = site / "my_lab-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-lab\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[advmim.methods]\nself_training = my_lab.self_training\n")
    code = "from advmim.methods import get_method; print(get_method('self_training').display_name)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": f"{site}:{ROOT}", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Self-training (conf. 0.9)"


def test_a_method_module_without_its_card_is_refused(tmp_path):
    """One registration path: built-in or not, the card is ``CARDS`` at the top of the module."""
    path = tmp_path / "no_card.py"
    path.write_text(example_code().replace("CARDS = (", "OTHER_CARDS = (").replace(
        '"self_training"', '"no_card_method"'))
    config = tiny_config(tmp_path / "results", methods=("supervised_unet",))
    config["plugins"] = [str(path)]
    with pytest.raises(ConfigError, match=r"no_card_method.*has no card for it \(CARDS = "):
        validate_config(config)
