"""Start-up cost of a job stays low: what a U-Net training job imports (benchmarks/README.md,
"Start-up"). Not timed: the check is which heavy modules end up in ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Each costs 0.1-1.6 s of a job's start on the 2-core development machine; none is needed to
# parse the command line, build a U-Net method and run its training step.
HEAVY = ("torch._dynamo", "sympy", "triton", "timm", "matplotlib", "pandas", "scipy", "nibabel",
         "torch.utils.tensorboard", "tensorboard", "tensorboardX")

_JOB = """
import json, sys
from advmim.cli import build_parser
build_parser()  # imports every command module
import torch
import advmim.train.loop  # the training loop (its logging too), as `advmim train` imports it
from advmim.methods import Batch, get_method
settings = json.loads(sys.argv[1])
method = get_method("supervised_unet")(settings, torch.device("cpu"))
method.train_mode()
x = torch.rand(2, 1, 32, 32)
y = torch.randint(0, settings["num_classes"], (2, 32, 32))
before = [p.detach().clone() for p in method.nets["C"].parameters()]
for it in range(2):  # the first optimiser step used to import torch._dynamo
    method.train_step(Batch(x, y), it)
method.state_dict()  # so did the optimiser's state dict (checkpoints)
changed = any(not torch.equal(a, b) for a, b in zip(before, method.nets["C"].parameters(), strict=True))
print(json.dumps({"changed": changed, "heavy": sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)}))
"""


def test_a_unet_training_step_imports_nothing_heavy(tiny_settings):
    settings = tiny_settings("supervised_unet")
    out = subprocess.run([sys.executable, "-c", _JOB, json.dumps(settings), json.dumps(HEAVY)], cwd=REPO,
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result == {"changed": True, "heavy": []}
