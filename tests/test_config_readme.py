"""config/README.md documents every configuration key, with the schema's default."""

from __future__ import annotations

import json
import re
from pathlib import Path

from advmim.config import load_schema
from advmim.models.settings import NETWORK_SETTINGS
from advmim.schema import resolve as _resolve

ROOT = Path(__file__).resolve().parents[1]
NO_DEFAULT = "—"


def schema_keys() -> dict[str, str]:
    """``{key path: default as JSON or —}`` of every key in the schema. A map's entries are one
    key ``<name>``; entries that reuse the training settings are documented once, under training."""
    schema = load_schema()
    keys: dict[str, str] = {}

    def walk(node: dict, path: str) -> None:
        reused = "$ref" in node and "<name>" in path  # training's settings, documented there
        node = _resolve(node, schema)
        if path:
            keys[path] = json.dumps(node["default"]) if "default" in node else NO_DEFAULT
        if reused:
            return
        for key, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{key}" if path else key)
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.<name>")

    walk(schema, "")
    for network, settings in NETWORK_SETTINGS.items():
        for key, default in settings.items():
            keys[f"models.{network}.{key}"] = json.dumps(default)
    return keys


def documented_keys() -> dict[str, tuple[str, str]]:
    """``{key: (default, meaning)}`` of config/README.md's table rows."""
    rows = {}
    for line in (ROOT / "config" / "README.md").read_text().splitlines():
        if m := re.fullmatch(r"\| `([^`]+)` \| (.+?) \| (.*) \|", line):
            key, default, meaning = m.groups()
            assert key not in rows, f"config/README.md documents {key} twice"
            rows[key] = (default.strip("`"), meaning.strip())
    return rows


def test_every_schema_key_is_documented_with_its_default():
    keys, documented = schema_keys(), documented_keys()
    missing = sorted(set(keys) - set(documented))
    assert not missing, f"config/README.md lacks these keys of the schema: {missing}"
    unknown = sorted(set(documented) - set(keys))
    assert not unknown, f"config/README.md documents keys the schema does not have: {unknown}"
    wrong = {k: (documented[k][0], keys[k]) for k in keys if documented[k][0] != keys[k]}
    assert not wrong, f"defaults in config/README.md (documented, schema): {wrong}"
    assert all(meaning for _, meaning in documented.values())
