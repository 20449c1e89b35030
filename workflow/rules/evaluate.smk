# Evaluation of a trained run on the test volumes (3D Dice / HD95 per class).


rule evaluate:
    input:
        model=rules.train.output.model,
        data=data_input,
    output:
        f"{R}/metrics/{{dataset}}/{{run}}/L{{labeled}}/seed{{seed}}.json",
    params:
        mode=config["evaluation"]["mode"],
        split=config["evaluation"]["split"],
        checkpoint=config["evaluation"]["checkpoint"],
    threads: 1
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/evaluate/{{dataset}}/{{run}}_L{{labeled}}_seed{{seed}}.log",
    benchmark:
        f"{R}/benchmarks/evaluate/{{dataset}}/{{run}}_L{{labeled}}_seed{{seed}}.tsv"
    shell:
        "advmim evaluate --model {input.model:q} --data {input.data:q} --out {output:q} "
        "--mode {params.mode:q} --split {params.split:q} --checkpoint {params.checkpoint:q} "
        "--threads {threads} > {log:q} 2>&1"
