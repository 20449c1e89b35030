# Masked image modelling of the Swin-UNet encoder (models.swin_unet.pretrained: mim): once per
# dataset and settings, on the training images without labels; every Swin-UNet run with those
# settings (all methods, seeds, labeled subsets) starts from the same file.


rule pretrain_mim:
    input:
        data=f"{R}/data/{{dataset}}",
    output:
        weights=f"{R}/pretrained/{{dataset}}/mim_{{key}}.pt",
        summary=f"{R}/pretrained/{{dataset}}/mim_{{key}}.json",
    params:
        settings=lambda w: json.dumps(MIM_PRETRAININGS[w.key], sort_keys=True),
    threads: config["training"]["threads"]
    resources:
        gpu=TRAIN_GPU,
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/pretrain/{{dataset}}/mim_{{key}}.log",
    benchmark:
        f"{R}/benchmarks/pretrain/{{dataset}}/mim_{{key}}.tsv"
    shell:
        "advmim pretrain-mim --data {input.data:q} --settings {params.settings:q} "
        "--out {output.weights:q} --threads {threads} > {log:q} 2>&1"
