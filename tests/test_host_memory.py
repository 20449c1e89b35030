"""Freed host memory is reused: repeated training-like steps stop taking new page faults."""

import subprocess
import sys

import pytest

PROBE = """
import resource, sys, torch
if sys.argv[1] == "reuse":
    from advmim.host_memory import reuse_freed_memory
    assert reuse_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
net = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.Conv2d(16, 16, 3, padding=1))
x = torch.rand(8, 1, 256, 256)
counts = []
for _ in range(6):  # training-like steps: the same large activations, allocated and freed
    before = faults()
    net(x).square().sum().backward()
    counts.append(faults() - before)
print(min(counts[2:]))
"""


def _steady_step_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc mallopt")
def test_repeated_steps_reuse_pages():
    system = _steady_step_faults("system")
    reuse = _steady_step_faults("reuse")
    assert system > 10_000  # every step faults its ~0.5 GB of activations in again
    assert reuse < system / 20


def test_applies_once():
    from advmim.host_memory import reuse_freed_memory

    assert reuse_freed_memory() is reuse_freed_memory()
