"""advmim: a reproducible benchmark pipeline for AdvMIM and semi-supervised segmentation baselines."""

__version__ = "0.1.0"
