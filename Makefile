# Two entry points (README "Quick start"): `make run` (whole DAG on the embedded default) and
# `make test` (lint + test suite). Both create .venv and install what they need on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.advmim-installed
# The torch build installed first (override for another platform, e.g. TORCH_SPEC="torch").
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
CORES ?= all
SNAKEMAKE_ARGS ?=

.PHONY: run run-full test test-workflow lint dry-run clean-results dvc-repro dvc-pull dvc-sync

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(TORCH_SPEC)
	$(PY) -m pip install -q -e ".[test]"
	@touch $(STAMP)

# Snakemake also applies the default profile workflow/profiles/default (through profiles/default);
# --keep-going and --rerun-incomplete are stated here too, so `make run` keeps going past a failed
# job with any profile (e.g. SNAKEMAKE_ARGS="--workflow-profile none").
run: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES) --keep-going --rerun-incomplete $(SNAKEMAKE_ARGS)
	@echo; cat results/tables/phantom.md

# Every method at 1 and 2 labeled patients (config/full_table.yaml; README "Full table").
run-full: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES) --keep-going --rerun-incomplete --configfile config/full_table.yaml $(SNAKEMAKE_ARGS)
	@echo; cat results/full_table/tables/phantom.md

test: $(STAMP)
	$(VENV)/bin/ruff check advmim tests benchmarks
	$(PY) -m pytest $(PYTEST_ARGS)

# The tiny config of .test/ through the whole workflow (seconds; outputs in .test/results).
test-workflow: $(STAMP)
	$(VENV)/bin/snakemake --cores $(CORES) --directory .test --configfile .test/config/config.yaml $(SNAKEMAKE_ARGS)

dry-run: $(STAMP)
	$(VENV)/bin/snakemake -n $(SNAKEMAKE_ARGS)

# DVC (docs/dvc.md). dvc-pull: fetch data/checkpoints/results, then `snakemake --touch` so the
# pulled files are not re-run (mtime trap); dvc-sync: the same after `git checkout && dvc checkout`.
dvc-repro: $(STAMP)
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/dvc repro

dvc-pull: $(STAMP)
	$(PY) -m advmim dvc-sync

dvc-sync: $(STAMP)
	$(PY) -m advmim dvc-sync --no-pull

clean-results:
	rm -rf results .snakemake
