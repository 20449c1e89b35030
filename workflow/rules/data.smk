# Raw data (generated phantom or downloaded dataset) and preprocessing to the SSL4MIS form.


rule phantom:
    output:
        directory(f"{R}/raw/phantom/database"),
    params:
        out=f"{R}/raw/phantom",
        patients=config["dataset"].get("phantom", {}).get("patients", 24),
        seed=config["dataset"].get("phantom", {}).get("seed", 0),
        size=config["dataset"].get("phantom", {}).get("size", 96),
    log:
        f"{R}/logs/phantom.log",
    benchmark:
        f"{R}/benchmarks/phantom.tsv"
    shell:
        "{ADVMIM} phantom --out {params.out} --patients {params.patients} "
        "--seed {params.seed} --size {params.size} > {log} 2>&1"


rule convert:
    input:
        raw=f"{R}/raw/{{dataset}}/database",
    output:
        directory(f"{R}/data/{{dataset}}"),
    params:
        split=lambda w: " ".join(
            f"--{k} {v}" for k, v in config["dataset"].get("split", {}).items()
        )
        if w.dataset == "phantom"
        else "",
        labeled=" ".join(map(str, config["labeled"])),
    log:
        f"{R}/logs/convert_{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/convert_{{dataset}}.tsv"
    shell:
        "{ADVMIM} convert {wildcards.dataset} --raw {input.raw} --out {output} "
        "{params.split} --labeled {params.labeled} > {log} 2>&1"
