"""Dataset plug-ins own every fact about their dataset: no other module of the package or the
workflow tests a dataset's name; split defaults and valid labeled sizes come from the plug-in."""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from pathlib import Path

import pytest
import yaml

from advmim.config import held_out, training_patients, validate_config
from advmim.data.registry import dataset_names, get_dataset
from advmim.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config"


def _docstrings(tree: ast.AST) -> set[int]:
    nodes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, nodes) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def python_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in a Python module but its docstrings."""
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree) if isinstance(node, ast.Constant)
            and isinstance(node.value, str) and id(node) not in skip]


def snakemake_strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the string literals of a Snakemake file (tokenized as Python), without
    comments and triple-quoted docstrings."""
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [(t.start[0], t.string) for t in tokens
            if t.type in kinds and not t.string.lstrip("rfbRFB").startswith(('"""', "'''"))]


def owns(path: Path, name: str) -> bool:
    """A dataset's own modules: the one registering its plug-in, and those named after it."""
    registering = Path(sys.modules[type(get_dataset(name)).__module__].__file__).resolve()
    return path.resolve() == registering or path.stem.startswith(name)


def test_no_dataset_name_outside_its_plug_in():
    files = [*(ROOT / "advmim").rglob("*.py"), *(ROOT / "workflow").rglob("*.smk"), ROOT / "Snakefile"]
    found = []
    for path in sorted(files):
        strings = python_strings(path) if path.suffix == ".py" else snakemake_strings(path)
        for line, text in strings:
            found += [f"{path.relative_to(ROOT)}:{line}: {name!r} in {text!r}" for name in dataset_names()
                      if re.search(rf"\b{name}\b", text) and not owns(path, name)
                      and text != type(get_dataset(name)).__module__]  # the registry's module list
    assert found == []


def overlay(name: str, **dataset) -> dict:
    """The embedded default with ``dataset`` replaced (as a --configfile of that dataset), its
    classes stated (as configurations had to before the plug-in's became the default)."""
    config = yaml.safe_load((CONFIG / "config.yaml").read_text())
    plugin = get_dataset(name)
    config["dataset"] = {"name": name, "num_classes": plugin.num_classes,
                         "class_names": list(plugin.class_names), **dataset}
    return config


def test_split_defaults_come_from_the_dataset_plug_in():
    """PROMISE12 holds out 5 / 10 cases by default; the phantom's 2 / 6 do not apply to it."""
    config = validate_config(overlay("promise12", raw_dir="x", split={"val": 5}))
    assert held_out(config, "test") == get_dataset("promise12").default_split["test"] == 10
    assert training_patients(config) == 50 - 5 - 10
    options = get_dataset("promise12").convert_arguments(config["dataset"], [3])
    assert "--test" not in options and options[:2] == ["--val", "5"]
    config = validate_config(overlay("phantom", split={"val": 1}))
    assert held_out(config, "test") == 6 and training_patients(config) == 24 - 1 - 6


def test_labeled_sizes_without_a_shipped_list_are_refused():
    config = overlay("acdc")
    config["labeled"] = [3, 5]
    with pytest.raises(ConfigError, match=r"labeled: 5: acdc has labeled lists for 3, 7, 14 only; "
                                          r"valid: 3, 7, 14"):
        validate_config(config)
    config["dataset"]["preprocessed_dir"] = "x"  # an SSL4MIS folder: its first 5 patients
    validate_config(config)


def test_classes_default_to_the_plug_in():
    config = {**overlay("promise12", raw_dir="x"), "labeled": [3]}
    del config["dataset"]["num_classes"], config["dataset"]["class_names"]
    validate_config(config)
    assert config["dataset"]["num_classes"] == 2 and config["dataset"]["class_names"] == ["prostate"]


TOY_PLUGIN = '''"""A toy dataset: RAW/<case>/image.npy + label.npy, one foreground class, seeded split."""

from pathlib import Path

import numpy as np

from advmim.data.registry import DatasetPlugin, register
from advmim.data.splits import random_split
from advmim.data.ssl4mis import check_pair, write_case, write_form


@register
class Toy(DatasetPlugin):
    name = "toy"
    num_classes = 2
    class_names = ("blob",)
    description = "toy blobs"
    data_hint = "make it with tests/test_dataset_plugins.py"
    default_split = {"val": 1, "test": 1}
    split_options = ("val", "test", "seed")
    CASES = 6

    def training_cases(self, ds):
        return self.CASES - self.split_size(ds, "val") - self.split_size(ds, "test")

    def split(self, raw, *, val=None, test=None, seed=0, labeled=None):
        cases = sorted(p.name for p in Path(raw).iterdir())
        val = self.default_split["val"] if val is None else val
        test = self.default_split["test"] if test is None else test
        return random_split(cases, val, test, seed, labeled or [1])

    def convert(self, raw, out, **opts):
        def case(name, data_dir):
            folder = Path(raw) / name
            image, label = np.load(folder / "image.npy"), np.load(folder / "label.npy")
            image, label = check_pair(image, label, folder, folder, self.num_classes)
            return {name: write_case(data_dir, name, self.normalize_intensity(image), label,
                                     (1.0, 1.0, 1.0), patient=name)}

        return write_form(out, self.split(raw, **opts), case, name=self.name,
                          num_classes=self.num_classes, class_names=self.class_names)

    def add_convert_arguments(self, parser):
        for key in ("val", "test", "seed"):
            parser.add_argument(f"--{key}", type=int)
        parser.add_argument("--labeled", type=int, nargs="+")

    def options_from_args(self, args):
        return {"val": args.val, "test": args.test, "seed": args.seed or 0, "labeled": args.labeled}
'''


@pytest.fixture
def toy(tmp_path):
    """The toy plug-in's file and raw data in a temp folder; unregistered afterwards."""
    import numpy as np

    from advmim.data import registry

    plugin = tmp_path / "my_lab" / "toy_dataset.py"
    plugin.parent.mkdir()
    plugin.write_text(TOY_PLUGIN)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:32, :32]
    for k in range(6):
        (tmp_path / "raw" / f"case{k}").mkdir(parents=True)
        blob = (yy - 16 - k) ** 2 + (xx - 14) ** 2 < 40 + 10 * k
        label = np.stack([blob] * 3).astype(np.uint8)
        np.save(tmp_path / "raw" / f"case{k}" / "label.npy", label)
        np.save(tmp_path / "raw" / f"case{k}" / "image.npy", label + rng.normal(0, 0.3, label.shape))
    yield plugin, tmp_path / "raw"
    registry._REGISTRY.pop("toy", None)


def test_a_toy_dataset_from_a_temp_folder(toy, tmp_path, capsys):
    """A dataset plug-in outside the package: validated like a built-in one (its classes, its
    training cases), converted by ``advmim convert``, checked by ``advmim prepare-ssl4mis`` and
    trained on."""
    from advmim.cli import main
    from advmim.config import run_settings
    from advmim.data.splits import read_list
    from advmim.train.loop import train
    from tests.workflow_utils import tiny_config

    plugin, raw = toy
    config = tiny_config(tmp_path / "results", methods=("supervised_unet",), iterations=2)
    config.update(plugins=[str(plugin)], labeled=[1, 2], seeds=[0])
    config["dataset"] = {"name": "toy", "raw_dir": str(raw)}
    validate_config(config)
    assert config["dataset"]["class_names"] == ["blob"] and training_patients(config) == 4
    with pytest.raises(ConfigError, match="labeled: 5 labeled patients but the training split has only 4"):
        validate_config({**config, "labeled": [5]})

    data = tmp_path / "data"
    options = get_dataset("toy").convert_arguments(config["dataset"], config["labeled"])
    assert main(["convert", "toy", "--raw", str(raw), "--out", str(data), *options]) == 0
    assert len(read_list(data / "train.list")) == 4 and len(read_list(data / "labeled" / "2.list")) == 6
    view = tmp_path / "view"
    assert main(["prepare-ssl4mis", str(data), "--out", str(view), "--dataset", "toy", "--labeled", "2"]) == 0
    assert "labeled subsets 2" in capsys.readouterr().out
    model = train(run_settings(config, "supervised_unet", 2, 0), view, tmp_path / "run", progress=False)
    assert model.is_file()
