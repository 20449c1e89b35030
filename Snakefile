# advmim workflow: raw data -> preprocessing -> training -> evaluation -> tables.
# Every rule is one call of the advmim CLI; all logic lives in the Python package.
# Run:  snakemake --cores all                 (embedded default: the synthetic phantom)
#       snakemake --cores all --resources gpu=4 --configfile config/acdc.yaml
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        main_table_outputs(),
    default_target: True
