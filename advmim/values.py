"""Checks of configuration values against the default that declares them (type) and an optional
rule (a closed numeric range or a tuple of allowed strings). Used for method parameters and
network settings, so each is validated before any job runs."""

from __future__ import annotations

from numbers import Real


def _kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Real):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def value_problem(value, default, rule=None) -> str | None:
    """Why ``value`` cannot stand where ``default`` is declared (None when it can)."""
    if default is not None and value is not None:
        want, got = _kind(default), _kind(value)
        if not (want == got or (want == "number" and got == "integer")):
            article = "an" if want[0] in "aeiou" else "a"
            return f"expected {article} {want} (like the default {default!r}), got {value!r}"
    if rule is None or value is None:
        return None
    if all(isinstance(r, str) for r in rule):
        if value not in rule:
            return f"{value!r} is not one of {', '.join(map(repr, rule))}"
    elif isinstance(value, bool) or not isinstance(value, Real):  # a null default checks no type
        return f"expected a number in [{rule[0]}, {rule[1]}], got {value!r}"
    else:
        low, high = rule
        if not low <= value <= high:
            return f"{value!r} is outside [{low}, {high}]"
    return None
