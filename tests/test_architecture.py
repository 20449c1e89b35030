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
    "advmim.errors": 0, "advmim.io": 0, "advmim.download": 0, "advmim.host_memory": 0, "advmim": 0,
    "advmim.data": 1, "advmim.metrics": 1, "advmim.models": 1,
    "advmim.blocks": 2,
    "advmim.methods": 3,
    "advmim.train": 4, "advmim.inference": 4, "advmim.evaluate": 4,
    "advmim.config": 5, "advmim.jobs": 5, "advmim.runs": 5, "advmim.plan": 5, "advmim.report": 5, "advmim.predict": 5,
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


def test_what_the_snakemake_process_reads_does_not_import_torch():
    """Config validation, the job list, method cards, network settings, the plan and the report
    modules are torch-free, so ``snakemake -n`` stays small (benchmarks/dryrun.py)."""
    import subprocess
    import sys

    code = """
import sys
from advmim.config import load_config, run_settings, validate_config
from advmim.jobs import train_jobs, training_uses_gpu
from advmim.methods import method_card, method_names
from advmim.models import model_defaults
from advmim.models.settings import IMAGENET
import advmim.plan, advmim.report.collect, advmim.report.references, advmim.report.table
config = validate_config(load_config("config/config.yaml"))
jobs = train_jobs(config)
[run_settings(config, j.method, j.labeled, j.seed) for j in jobs]
[method_card(n).param_problems({}) for n in method_names()]
model_defaults("swin_unet"), training_uses_gpu("cpu")
print(sorted({m.split(".")[0] for m in sys.modules} & {"torch", "timm", "monai"}), len(jobs))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out[0] == "[]" and int(out[1]) > 10


def test_a_unet_only_job_does_not_import_timm():
    """timm (~2 s of every job's start on a 2-core CPU) is imported by the jobs that build a
    Swin-UNet only: a U-Net method trains without it."""
    import subprocess
    import sys

    code = """
import sys, torch
from advmim.methods import get_method
from advmim.models import build_model
get_method("supervised_unet"), get_method("advmim"), build_model("unet", 4, 32)
print("timm" in sys.modules, end=" ")
build_model("swin_unet", 4, 32, embed_dim=12, depths=(1, 1), num_heads=(1, 1))
print("timm" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "True"]


def test_method_classes_carry_their_cards():
    """A built-in card read without importing its module (the expression ``CARDS`` at the top
    of the module) is the one its class registered with; every method module has one."""
    from advmim.methods import get_method, method_card, method_names
    from advmim.methods.catalog import MethodCard, builtin_cards

    cards = builtin_cards()
    for name in cards:
        cls, card = get_method(name), method_card(name)
        assert cls.__module__ == card.module and cls.name == name
        assert MethodCard.of_class(name, cls) == card
    assert set(cards) <= set(method_names())
    modules = {p.stem for p in (PACKAGE / "methods").glob("*.py")} - {"__init__", "base", "catalog", "parts"}
    assert {c.module.rsplit(".", 1)[1] for c in cards.values()} == modules
