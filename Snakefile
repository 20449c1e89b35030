# Pointer for `snakemake` run at the repository root: the workflow is workflow/Snakefile
# (Snakemake workflow catalog layout; `snakemake -s workflow/Snakefile` is the same workflow).
# Included as the main Snakefile, so that its `rule all` stays the default target (the `include:`
# keyword keeps an included file's default target out).
workflow.include("workflow/Snakefile", overwrite_default_target=True)
