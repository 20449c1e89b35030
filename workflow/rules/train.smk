# Training: one job per (run, labeled subset, seed); run = method or abl-<variant>.


# The run's settings as a file in its run folder (advmim.runs.job_settings, the function
# `advmim train --configfile` calls): Snakemake renders them, so no settings travel on a command
# line, and a changed setting retrains the run (the file is newer than its model). Being under
# results/runs, the file is versioned and pulled with the run by DVC.
rule run_settings:
    input:
        template=workflow.source_path("../templates/run_settings.json"),
    output:
        f"{R}/runs/{{dataset}}/{{run}}/L{{labeled}}/seed{{seed}}/settings.json",
    params:
        settings=settings_json,
    log:
        f"{R}/logs/settings/{{dataset}}/{{run}}_L{{labeled}}_seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/settings/{{dataset}}/{{run}}_L{{labeled}}_seed{{seed}}.tsv"
    template_engine:
        "jinja2"


rule train:
    input:
        data=data_input,
        weights=pretrained_input,
        settings=rules.run_settings.output[0],
    output:
        model=f"{R}/runs/{{dataset}}/{{run}}/L{{labeled}}/seed{{seed}}/model.pt",
    params:
        run_dir=subpath(output.model, parent=True),
    threads: config["training"]["threads"]
    resources:
        gpu=TRAIN_GPU,
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/train/{{dataset}}/{{run}}_L{{labeled}}_seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/train/{{dataset}}/{{run}}_L{{labeled}}_seed{{seed}}.tsv"
    shell:
        "advmim train --data {input.data:q} --settings-file {input.settings:q} "
        "--out {params.run_dir:q} --threads {threads} > {log:q} 2>&1"
