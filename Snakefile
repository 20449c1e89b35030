# advmim workflow: raw data -> preprocessing -> training -> evaluation -> tables.
# Every rule is one call of the advmim CLI; all logic lives in the Python package.
# Run:  snakemake --cores all                 (embedded default: the synthetic phantom)
#       snakemake --cores all --resources gpu=4 --configfile config/acdc.yaml
import os

from snakemake.utils import min_version

min_version("9.0")


# The embedded default; every --configfile (config/acdc.yaml, ...) is merged over it by
# Snakemake (nested keys merge, lists are replaced), and --config key=value overrides single keys.
from advmim.config import read_yaml

read_yaml(os.path.join(workflow.basedir, "config", "config.yaml"))  # syntax errors: file:line


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


include: "workflow/rules/common.smk"


# Jobs find the advmim command through PATH (common.smk puts the running venv first).
envvars:
    "PATH",


wildcard_constraints:
    dataset=r"[a-z0-9_]+",
    run=r"[A-Za-z0-9_.\-]+",
    labeled=r"\d+",
    seed=r"\d+",


include: "workflow/rules/data.smk"
include: "workflow/rules/pretrain.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        main_table_outputs(),
        main_figure_outputs(),
    default_target: True
