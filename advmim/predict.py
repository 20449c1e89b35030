"""Segment NIfTI volumes with a trained run: the run's preprocessing, slice-wise inference, and
labels written as uint8 NIfTI with the input's affine and header (atomically).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import torch

from advmim.errors import ConfigError, InputError, OutputError
from advmim.io import check_outputs, write_bytes

NIFTI_SUFFIXES = (".nii.gz", ".nii")


def is_nifti(path: Path) -> bool:
    return path.name.endswith(NIFTI_SUFFIXES)


class Predictor:
    """One network of a finished run (``model.pt``) with the run's intensity normalisation."""

    def __init__(self, model: str | Path, network: str | None = None, device: torch.device | None = None,
                 overwrite: bool = False):
        from advmim.data.registry import get_dataset
        from advmim.inference import load_networks

        self.device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.model, self.overwrite = Path(model), overwrite
        self.settings, nets = load_networks(model, self.device)
        if network is None and len(nets) > 1:
            raise ConfigError(f"{model} holds networks {', '.join(nets)}: choose one with --network")
        network = network or next(iter(nets))
        if network not in nets:
            raise ConfigError(f"{model} has no network {network!r}; it holds {', '.join(nets)}")
        self.network, self.net = network, nets[network]
        self.num_classes = int(self.settings["num_classes"])
        try:
            self.normalize = get_dataset(self.settings["dataset"]).normalize_intensity
        except ConfigError:  # a dataset this installation does not know: the default
            from advmim.data.ssl4mis import normalize as default

            self.normalize = default

    def segment(self, image: np.ndarray, path: str | Path) -> np.ndarray:
        """Labels (z, y, x) uint8 of a (z, y, x) image read from ``path``."""
        from advmim.data.ssl4mis import check_image
        from advmim.inference import predict_volume

        image = check_image(image, path)
        return predict_volume(self.net, self.normalize(image), self.settings["img_size"], self.device)

    def predict_file(self, in_path: str | Path, out_path: str | Path) -> Path:
        """Segment one NIfTI file into ``out_path`` (.nii or .nii.gz)."""
        from advmim.data.nifti import read_nifti

        in_path, out_path = Path(in_path), Path(out_path)
        self.check_outputs([(in_path, out_path)])
        image, _ = read_nifti(in_path)  # (z, y, x), validated 3D
        labels = self.segment(image, in_path)
        source = nib.load(in_path)
        cls = type(source) if isinstance(source, nib.Nifti1Image) else nib.Nifti1Image
        header = source.header.copy() if isinstance(source, nib.Nifti1Image) else None
        if header is not None:
            header.set_data_dtype(np.uint8)
            header.set_slope_inter(None, None)
            header["cal_min"], header["cal_max"] = 0, self.num_classes - 1
        out = cls(np.ascontiguousarray(labels.transpose(2, 1, 0)), source.affine, header)
        data = out.to_bytes()
        if out_path.name.endswith(".gz"):
            data = gzip.compress(data, mtime=0)
        write_bytes(out_path, data)
        return out_path

    def check_outputs(self, pairs: list[tuple[Path, Path]]) -> None:
        """Before segmenting: every output is a writable .nii/.nii.gz path that is no input."""
        for _, out_path in pairs:
            if not is_nifti(out_path):
                raise ConfigError(f"{out_path}: the output must end in .nii or .nii.gz")
        check_outputs(files=[o for _, o in pairs], inputs=[self.model, *(i for i, _ in pairs)])
        existing = [o for _, o in pairs if o.exists()]
        if existing and not self.overwrite:
            more = f" (and {len(existing) - 1} more outputs)" if len(existing) > 1 else ""
            raise OutputError(existing[0], f"exists{more}; refusing to overwrite it (pass "
                                           "--overwrite to replace existing outputs)")

    def predict_dir(self, input_dir: str | Path, output_dir: str | Path) -> list[Path]:
        """Segment every NIfTI file of ``input_dir`` into ``output_dir`` under the same name."""
        input_dir, output_dir = Path(input_dir), Path(output_dir)
        if not input_dir.is_dir():
            raise InputError(input_dir, "input folder not found")
        inputs = sorted(p for p in input_dir.iterdir() if p.is_file() and is_nifti(p))
        if not inputs:
            raise InputError(input_dir, "no .nii or .nii.gz files in the input folder")
        if output_dir.resolve() == input_dir.resolve():
            raise ConfigError(f"{output_dir}: the output folder must differ from the input folder")
        pairs = [(p, output_dir / p.name) for p in inputs]
        self.check_outputs(pairs)
        return [self.predict_file(*pair) for pair in pairs]
