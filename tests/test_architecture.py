"""The package's import structure: no import cycle, and imports run one way through the layers
(CLI -> commands -> workflow-facing modules -> runner -> methods -> building blocks ->
models / data / metrics -> shared utilities). Read from the source with ``ast`` (every import,
also those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "advmim"
# Layer of each module prefix, lowest first; the longest matching prefix decides.
LAYERS = {
    "advmim.errors": 0, "advmim.io": 0, "advmim.host_memory": 0, "advmim": 0,
    "advmim.data": 1, "advmim.metrics": 1, "advmim.models": 1,
    "advmim.blocks": 2,
    "advmim.methods": 3,
    "advmim.train": 4, "advmim.inference": 4, "advmim.evaluate": 4,
    "advmim.config": 5, "advmim.jobs": 5, "advmim.plan": 5, "advmim.report": 5, "advmim.predict": 5,
    "advmim.commands": 6, "advmim.cli": 7, "advmim.__main__": 7,
}


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imports() -> dict[str, set[str]]:
    mods = modules()
    graph = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [base, *(f"{base}.{a.name}" for a in node.names)]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def layer(module: str) -> int:
    prefix = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[prefix]


def test_no_import_cycle():
    graph, state, cycles = imports(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_imports_only_go_down_the_layers():
    upward = sorted(f"{a} -> {b}" for a, targets in imports().items() for b in targets
                    if layer(b) > layer(a) and not (a == "advmim" or b == "advmim"))
    assert upward == []
