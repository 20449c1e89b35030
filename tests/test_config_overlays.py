"""One source of defaults: the shipped configuration files state only what differs from it.

The embedded default (config/config.yaml) is checked against the schema's ``default:`` values,
the dataset plug-in's classes and split, each method card's parameters and each network's
settings; an overlay (config/<name>.yaml, merged over it by Snakemake: nested keys merge, lists
are replaced) also against config/config.yaml. A key restates a default when leaving it out
resolves to the same configuration.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from advmim.config import validate_config
from advmim.data.registry import get_dataset
from advmim.errors import ConfigError
from advmim.methods import method_card
from advmim.models.settings import model_defaults
from advmim.plan import merge_configs as merge  # Snakemake's own --configfile merge

CONFIG = Path(__file__).resolve().parents[1] / "config"
DEFAULT = CONFIG / "config.yaml"


def resolved(config: dict) -> dict | None:
    """Every default filled in (None: not a valid configuration)."""
    try:
        config = validate_config(copy.deepcopy(config))
    except ConfigError:
        return None
    ds = config["dataset"]
    ds["split"] = {**ds.get("split", {}),
                   **{k: get_dataset(ds["name"]).split_size(ds, k) for k in ("val", "test")}}
    config["method_params"] = {m: {**method_card(m).default_params, **p}
                               for m, p in config["method_params"].items()}
    config["models"] = {a: {**model_defaults(a), **s} for a, s in (config["models"] or {}).items()}
    return config


def leaves(node: dict, path: tuple = ()):
    for key, value in node.items():
        if isinstance(value, dict) and value:
            yield from leaves(value, (*path, key))
        else:
            yield (*path, key)


def without(node: dict, path: tuple) -> dict:
    out = copy.deepcopy(node)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return out


def restated(text: dict, base: dict) -> list[str]:
    """Keys of ``text`` whose removal leaves ``merge(base, text)`` resolved the same."""
    whole = resolved(merge(base, text))
    assert whole is not None
    return ["/".join(map(str, p)) for p in leaves(text) if resolved(merge(base, without(text, p))) == whole]


@pytest.mark.parametrize("path", sorted(CONFIG.glob("*.yaml")), ids=lambda p: p.name)
def test_config_files_state_only_what_differs_from_the_defaults(path):
    text = yaml.safe_load(path.read_text())
    base = {} if path == DEFAULT else yaml.safe_load(DEFAULT.read_text())
    assert restated(text, base) == []
