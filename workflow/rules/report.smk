# Tables and figures from the per-run metrics; report() marks what `snakemake --report` shows.


# The report's landing page: what the workflow did, with which settings.
report: "../report/workflow.rst"


localrules:
    table,
    metrics_summary,
    ablation_table,
    ablations,
    figures,


rule table:
    input:
        metrics=main_metrics(),
        refs=REFERENCES,
    output:
        md=report(f"{R}/tables/{DATASET}.md", caption="../report/table.rst", category="Tables"),
        csv=report(f"{R}/tables/{DATASET}.csv", caption="../report/table.rst", category="Tables"),
        tex=report(f"{R}/tables/{DATASET}.tex", caption="../report/table.rst", category="Tables"),
        html=report(f"{R}/tables/{DATASET}.html", caption="../report/table.rst", category="Tables"),
        stats=report(f"{R}/tables/{DATASET}_stats.csv", caption="../report/stats.rst", category="Tables"),
    params:
        config=lambda w: json.dumps(config),  # key order kept: ablation rows follow the config
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/table_{DATASET}.log",
    benchmark:
        f"{R}/benchmarks/table_{DATASET}.tsv"
    shell:
        "advmim table --kind main --config-json {params.config:q} --metrics {input.metrics:q} "
        "--references {input.refs:q} --stats-out {output.stats:q} --out {output.md:q} 2>&1 | tee {log:q}"


# What DVC tracks as metrics and plots (docs/dvc.md): a flat summary (mean Dice/HD95 per
# method x labeled) and one down-sampled training curve per run.
rule metrics_summary:
    input:
        metrics=main_metrics(),
        models=main_models(),
    output:
        summary=f"{R}/metrics/{DATASET}_summary.json",
        curves=directory(f"{R}/plots/{DATASET}"),
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/metrics_summary_{DATASET}.log",
    benchmark:
        f"{R}/benchmarks/metrics_summary_{DATASET}.tsv"
    shell:
        "advmim summarize --metrics {input.metrics:q} --out {output.summary:q} "
        "--curves {output.curves:q} --runs {input.models:q} > {log:q} 2>&1"


rule ablation_table:
    input:
        metrics=ablation_metrics(),
        refs=REFERENCES,
    output:
        md=report(f"{R}/tables/{DATASET}_ablations.md", caption="../report/ablations.rst", category="Tables"),
        csv=report(f"{R}/tables/{DATASET}_ablations.csv", caption="../report/ablations.rst", category="Tables"),
        tex=report(f"{R}/tables/{DATASET}_ablations.tex", caption="../report/ablations.rst", category="Tables"),
        html=report(f"{R}/tables/{DATASET}_ablations.html", caption="../report/ablations.rst", category="Tables"),
    params:
        config=lambda w: json.dumps(config),  # key order kept: ablation rows follow the config
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/ablation_table_{DATASET}.log",
    benchmark:
        f"{R}/benchmarks/ablation_table_{DATASET}.tsv"
    shell:
        "advmim table --kind ablation --config-json {params.config:q} --metrics {input.metrics:q} "
        "--references {input.refs:q} --out {output.md:q} 2>&1 | tee {log:q}"


rule ablations:
    input:
        rules.ablation_table.output,


rule figures:
    input:
        metrics=main_metrics(),
        models=main_models(),
        data=main_data(),
    output:
        curves=[
            report(p, caption="../report/curves.rst", category="Figures", subcategory="Training curves")
            for p in figure_paths("curves")
        ],
        dice=[
            report(p, caption="../report/dice_vs_labeled.rst", category="Figures", subcategory="Dice vs labeled")
            for p in figure_paths("dice")
        ],
        qualitative=[
            report(p, caption="../report/qualitative.rst", category="Figures", subcategory="Qualitative")
            for p in figure_paths("qualitative")
        ],
    params:
        out=lambda w, output: os.path.dirname(output.dice[0]),
        order=config["methods"],
    threads: 1
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/figures_{DATASET}.log",
    benchmark:
        f"{R}/benchmarks/figures_{DATASET}.tsv"
    shell:
        "advmim figures --metrics {input.metrics:q} --runs {input.models:q} --data {input.data:q} "
        "--order {params.order:q} --out {params.out:q} --threads {threads} > {log:q} 2>&1"
