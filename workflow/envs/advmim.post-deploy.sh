#!/usr/bin/env bash
# Run by Snakemake (--use-conda) once, inside the new rule environment of advmim.yaml: installs
# this repository's advmim package (editable, so the jobs run the code next to the workflow).
# ADVMIM_ROOT is the repository root, set by workflow/rules/common.smk when the workflow loads.
set -euo pipefail
: "${ADVMIM_ROOT:?ADVMIM_ROOT is not set (workflow/rules/common.smk sets it)}"
python -m pip install --quiet --no-deps -e "$ADVMIM_ROOT"
