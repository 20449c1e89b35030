# Tables (and, later, figures) from the per-run metrics.


localrules:
    table,
    ablation_table,
    ablations,


rule table:
    input:
        main_metrics(),
    output:
        md=f"{R}/tables/{DATASET}.md",
        csv=f"{R}/tables/{DATASET}.csv",
    params:
        config=lambda w: json.dumps(config, sort_keys=True),
    log:
        f"{R}/logs/table_{DATASET}.log",
    benchmark:
        f"{R}/benchmarks/table_{DATASET}.tsv"
    shell:
        "{ADVMIM} table --kind main --config-json {params.config:q} --metrics {input} "
        "--out {output.md} 2>&1 | tee {log}"


rule ablation_table:
    input:
        ablation_metrics(),
    output:
        md=f"{R}/tables/{DATASET}_ablations.md",
        csv=f"{R}/tables/{DATASET}_ablations.csv",
    params:
        config=lambda w: json.dumps(config, sort_keys=True),
    log:
        f"{R}/logs/ablation_table_{DATASET}.log",
    benchmark:
        f"{R}/benchmarks/ablation_table_{DATASET}.tsv"
    shell:
        "{ADVMIM} table --kind ablation --config-json {params.config:q} --metrics {input} "
        "--out {output.md} 2>&1 | tee {log}"


rule ablations:
    input:
        rules.ablation_table.output,
