"""Fetch the DVC-versioned results and make Snakemake see them as up to date (the mtime trap).

``dvc pull`` / ``dvc checkout`` give every restored file the current time as its mtime, in no
particular order, so Snakemake would find outputs "older" than their inputs and re-run jobs
(it has no checksums or metadata for files it did not write itself). This command:

1. runs ``dvc pull`` (skipped with ``--no-pull``, e.g. after ``dvc checkout``);
2. checks ``dvc status``: the pulled outputs must belong to the current config and code,
   otherwise marking them up to date would hide a needed re-run (``--force`` skips the check);
3. runs ``snakemake --touch --forceall``, which sets the mtimes of all existing outputs in DAG
   order without running any job (it fails, naming the file, when an output is missing) and
   records Snakemake metadata (params, code, input) for every output, so that later config or
   code changes are detected by Snakemake's rerun triggers in this fresh clone too.

Afterwards ``snakemake -n`` schedules nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys

NAME = "dvc-sync"
HELP = "dvc pull, then `snakemake --touch` so Snakemake does not re-run pulled results"


def add_arguments(parser):
    parser.add_argument("--no-pull", action="store_true",
                        help="skip `dvc pull` (files already restored, e.g. by `dvc checkout`)")
    parser.add_argument("--force", action="store_true",
                        help="touch even when `dvc status` reports changed stages")
    parser.add_argument("--configfile", help="workflow config passed on to snakemake")
    parser.add_argument("--jobs", type=int, help="parallel transfers for `dvc pull`")
    parser.add_argument("targets", nargs="*", help="DVC targets to pull (default: all)")


def pull_command(targets=(), jobs=None) -> list[str]:
    cmd = [sys.executable, "-m", "dvc", "pull"]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    return cmd + list(targets)


def touch_command(configfile=None) -> list[str]:
    cmd = [sys.executable, "-m", "snakemake", "--touch", "--forceall", "--cores", "1"]
    if configfile:
        cmd += ["--configfile", configfile]
    return cmd


def changed_stages(status: dict) -> list[str]:
    """Stage names from ``dvc status --json`` whose deps, params, outs or command changed."""
    return sorted(name for name, changes in status.items() if changes)


def _run(cmd: list[str]) -> None:
    from advmim.errors import AdvmimError

    print("+ " + " ".join(cmd[2:] if cmd[0] == sys.executable else cmd), flush=True)
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise AdvmimError(f"`{' '.join(cmd[1:])}` failed (exit {proc.returncode})")


def run(args) -> int:
    from advmim.errors import AdvmimError

    if not args.no_pull:
        _run(pull_command(args.targets, args.jobs))
    if not args.force:
        proc = subprocess.run([sys.executable, "-m", "dvc", "status", "--json"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise AdvmimError(f"`dvc status` failed: {proc.stderr.strip()}")
        changed = changed_stages(json.loads(proc.stdout or "{}"))
        if changed:
            raise AdvmimError(
                f"DVC stage(s) {', '.join(changed)} changed (config, code or outputs differ from "
                "dvc.lock); not touching: run `dvc repro` instead, or pass --force")
    _run(touch_command(args.configfile))
    print("Snakemake outputs marked up to date; `snakemake -n` should schedule nothing.")
    return 0
