# Training: one job per (run, labeled subset, seed); run = method or abl-<variant>.


rule train:
    input:
        data=data_input,
        weights=pretrained_input,
    output:
        model=f"{R}/runs/{{dataset}}/{{run}}/L{{labeled}}/seed{{seed}}/model.pt",
    params:
        settings=settings_json,
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
        "advmim train --data {input.data:q} --settings {params.settings:q} "
        "--out {params.run_dir:q} --threads {threads} > {log:q} 2>&1"
