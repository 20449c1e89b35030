"""The configuration schema (``advmim/schemas/config.schema.yaml``): the one source of defaults
and ranges, for workflow configurations (:func:`advmim.config.validate_config`) and for the run
settings of one training (:func:`check_run_settings`, what ``advmim train`` checks before any
work). Torch-free."""

from __future__ import annotations

import copy
import functools
from importlib import resources
from typing import Any

import yaml

from advmim.errors import ConfigError

SCHEMA_FILE = "config.schema.yaml"


@functools.cache
def load_schema() -> dict:
    """The JSON schema every configuration must satisfy."""
    text = resources.files("advmim.schemas").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def resolve(node: dict, schema: dict) -> dict:
    """``node`` with its ``$ref`` (a JSON pointer into ``schema``) followed, recursively."""
    while "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def fill_defaults(config: dict, schema: dict | None = None) -> dict:
    """Set every missing key that has a schema ``default:`` (nested ``properties`` only, so the
    partial overrides under ``method_training`` and ``ablations`` get none), in place."""
    root = load_schema()
    schema = schema or root

    def walk(node: dict, value: dict) -> None:
        for key, sub in resolve(node, root).get("properties", {}).items():
            sub = resolve(sub, root)
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
            if isinstance(value.get(key), dict):
                walk(sub, value[key])

    walk(schema, config)
    return config


def schema_default(*keys: str) -> Any:
    """The schema's ``default:`` of one key (``schema_default("dataset", "phantom", "seed")``),
    for command-line defaults that must agree with the workflow's."""
    schema = node = load_schema()
    for key in keys:
        node = resolve(node, schema)["properties"][key]
    return resolve(node, schema)["default"]


@functools.cache
def run_settings_schema() -> dict:
    """``$defs/run_settings`` with every training setting (``$defs/training_settings``) added and
    references followed: a self-contained schema that allows no other key."""
    root = load_schema()
    training = resolve(root["$defs"]["training_settings"], root)
    run = resolve(root["$defs"]["run_settings"], root)
    properties = {key: resolve(sub, root) for key, sub in training["properties"].items()}
    properties |= {key: resolve(sub, root) for key, sub in run["properties"].items()}
    return {**{k: v for k, v in run.items() if k != "properties"}, "properties": properties,
            "additionalProperties": False, "$defs": root["$defs"]}


def problems(value: Any, schema: dict) -> list[str]:
    """``path: message`` of every place where ``value`` breaks ``schema`` (JSON Schema 2020-12)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    out: list[str | list] = []  # a list: the missing keys of one object, in the order found
    missing: dict[str, list] = {}
    for err in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, err.absolute_path))
        if err.validator == "required" and isinstance(err.instance, dict):
            if where not in missing:
                out.append(missing.setdefault(where, [where or "<top>"]))
            keys = missing[where]
            keys += [k for k in err.validator_value if k not in err.instance and k not in keys]
        elif err.validator == "additionalProperties" and isinstance(err.instance, dict):
            known = err.schema.get("properties", {})
            out += [f"{where + '/' if where else ''}{key}: unknown key; valid: {', '.join(sorted(known))}"
                    for key in err.instance if key not in known]
        else:
            out.append(f"{where or '<top>'}: {err.message}")
    return [f"{item[0]}: missing key(s) {', '.join(item[1:])}" if isinstance(item, list) else item
            for item in out]


@functools.cache
def pretrain_settings_schema() -> dict:
    """``$defs/pretrain_settings`` with references followed (nested ones included)."""
    root = load_schema()
    node = resolve(root["$defs"]["pretrain_settings"], root)
    return {**node, "properties": {k: resolve(v, root) for k, v in node["properties"].items()},
            "$defs": root["$defs"]}


def check_pretrain_settings(settings: Any, source: str = "pretraining settings") -> dict:
    """Pretraining settings checked like run settings (:func:`check_run_settings`)."""
    if not isinstance(settings, dict):
        raise ConfigError(f"{source}: expected a JSON object of pretraining settings, got "
                          f"{type(settings).__name__}")
    schema = pretrain_settings_schema()
    fill_defaults(settings, schema)
    if found := problems(settings, schema):
        raise ConfigError(f"{source}: invalid pretraining settings: " + "; ".join(found))
    return settings


def check_run_settings(settings: Any, source: str = "run settings") -> dict:
    """Run settings, missing keys filled from the schema's defaults; one ConfigError (naming
    ``source`` and every bad key) unless every key is known and in range."""
    if not isinstance(settings, dict):
        raise ConfigError(f"{source}: expected a JSON object of run settings, got "
                          f"{type(settings).__name__}")
    schema = run_settings_schema()
    fill_defaults(settings, schema)
    found = problems(settings, schema)
    names, n = settings.get("class_names"), settings.get("num_classes")
    if not found and len(names) != n - 1:
        found.append(f"class_names: {len(names)} names for {n - 1} foreground classes "
                     "(num_classes counts the background)")
    if found:
        raise ConfigError(f"{source}: invalid run settings: " + "; ".join(found))
    return settings
