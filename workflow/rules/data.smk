# Raw data (generated phantom or downloaded dataset) and preprocessing to the SSL4MIS form.


# The dataset's raw data, as its plug-in obtains it: a download (ACDC from the CREATIS server,
# resumable, SHA-256 checked) or a generator (the phantom); not used when dataset.raw_dir is set.
# Datasets that need an account (Synapse, PROMISE12) require raw_dir (check_data_source).
rule raw_data:
    output:
        directory(f"{R}/raw/{{dataset}}/database"),
    params:
        out=lambda w, output: os.path.dirname(output[0]),
        command=raw_command,
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/raw_data_{{dataset}}.log",
    benchmark:
        f"{R}/benchmarks/raw_data_{{dataset}}.tsv"
    shell:
        "advmim {params.command} --out {params.out:q} > {log:q} 2>&1"


localrules:
    raw_data,
    download_weights,


# ImageNet Swin-T for models.swin_unet.pretrained: imagenet (resumable, SHA-256 checked once
# pinned in models.swin_unet.pretrained_sha256); the train jobs of Swin-UNet methods wait for it.
# Its output is also shown on the console: the digest to pin, or where to put the file offline.
rule download_weights:
    output:
        SWIN_WEIGHTS,
    params:
        options=weights_options(),
    conda:
        CONDA_ENV
    log:
        f"{R}/logs/download_weights.log",
    benchmark:
        f"{R}/benchmarks/download_weights.tsv"
    shell:
        "advmim download-weights swin-t --out {output:q} {params.options} --no-progress 2>&1 | tee {log:q}"


if PREPROCESSED_DIR:

    # An existing SSL4MIS folder: validated, labeled lists + dataset.json added, data/ linked;
    # the user's folder itself is not modified.
    rule prepare_ssl4mis:
        input:
            # ancient: a read-only copy whose modification time changes when it is unpacked or
            # mounted again (same files) must not retrain every finished run; after replacing the
            # data, rerun with --forcerun prepare_ssl4mis (README.md, "Resuming").
            src=ancient(PREPROCESSED_DIR),
        output:
            directory(f"{R}/data/{{dataset}}"),
        params:
            labeled=[str(n) for n in config["labeled"]],
        conda:
            CONDA_ENV
        log:
            f"{R}/logs/prepare_ssl4mis_{{dataset}}.log",
        benchmark:
            f"{R}/benchmarks/prepare_ssl4mis_{{dataset}}.tsv"
        shell:
            "advmim prepare-ssl4mis {input.src:q} --out {output:q} --dataset {wildcards.dataset:q} "
            "--labeled {params.labeled:q} > {log:q} 2>&1"

else:

    rule convert:
        input:
            raw=raw_input,
        output:
            directory(f"{R}/data/{{dataset}}"),
        params:
            options=convert_options,
        conda:
            CONDA_ENV
        log:
            f"{R}/logs/convert_{{dataset}}.log",
        benchmark:
            f"{R}/benchmarks/convert_{{dataset}}.tsv"
        shell:
            "advmim convert {wildcards.dataset:q} --raw {input.raw:q} --out {output:q} "
            "{params.options} > {log:q} 2>&1"
