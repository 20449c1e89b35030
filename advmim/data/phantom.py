"""Synthetic short-axis cardiac cine-MRI phantom written in ACDC's official raw layout.

Each patient gets an LV blood pool, a myocardial ring and an RV crescent against the septum,
shrinking from base to apex; the ES frame has smaller cavities and a thicker myocardium.
The image is made hard on purpose: tissue intensities overlap, distractors (chest wall, fat,
lungs, liver, great vessels, papillary muscles) look like heart structures, a bias field,
partial-volume blur and Rician noise are added, and each patient gets its own contrast (gamma).
Everything is drawn from ``numpy`` Generators seeded by (seed, patient number), so the same seed
gives bitwise identical files.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advmim.errors import ConfigError
from advmim.io import atomic_open, write_text

GROUPS = ("DCM", "HCM", "MINF", "NOR", "RV")
NOMINAL_SIZE = 112.0  # anatomy sizes below are in pixels of a 112-pixel image
DEFAULT_SIZE = (96, 128)
DEFAULT_SLICES = (6, 10)


@dataclass(frozen=True)
class Heart:
    """Per-patient anatomy (ED, pixels at the patient's own image scale)."""

    center: tuple[float, float]
    drift: tuple[float, float]
    rv_direction: float
    r_lv: float
    thickness: float
    rv_scale: float
    rv_extent: float
    harmonics: np.ndarray  # (k, amplitude, phase) rows for the endocardial outline
    thickness_wave: tuple[float, float]  # amplitude, phase of wall-thickness variation
    es_lv: float
    es_rv: float
    papillary: tuple[float, float]


@dataclass(frozen=True)
class PhantomPatient:
    """A generated patient: Info.cfg fields and the ED/ES (image, label) volumes in (z, y, x)."""

    name: str
    info: dict[str, object]
    spacing: tuple[float, float, float]
    frames: dict[int, tuple[np.ndarray, np.ndarray]]


def _sample_heart(
    rng: np.random.Generator, group: str, shape: tuple[int, int], scale: float
) -> Heart:
    h, w = shape
    r_lv = {"DCM": 18.0, "HCM": 10.5, "MINF": 15.5}.get(group, 13.0) * rng.uniform(0.85, 1.15)
    thickness = {"HCM": 8.5, "DCM": 4.0, "MINF": 4.5}.get(group, 5.5) * rng.uniform(0.85, 1.2)
    ks = np.array([2.0, 3.0, 4.0])
    harmonics = np.stack([ks, rng.uniform(0.0, 0.08, 3) / ks * 2, rng.uniform(0, 2 * np.pi, 3)], 1)
    poor = group in ("DCM", "MINF")
    return Heart(
        center=(h / 2 + rng.uniform(-0.1, 0.1) * h, w / 2 + rng.uniform(-0.1, 0.1) * w),
        drift=tuple(rng.uniform(-0.8, 0.8, 2) * scale),
        rv_direction=np.deg2rad(200.0 + rng.uniform(-45, 45)),
        r_lv=r_lv * scale,
        thickness=thickness * scale,
        rv_scale=(1.45 if group == "RV" else 1.0) * rng.uniform(0.85, 1.15),
        rv_extent=rng.uniform(0.65, 0.9),
        harmonics=harmonics,
        thickness_wave=(rng.uniform(0.0, 0.35), rng.uniform(0, 2 * np.pi)),
        es_lv=rng.uniform(0.78, 0.92) if poor else rng.uniform(0.55, 0.72),
        es_rv=rng.uniform(0.6, 0.8) if group != "RV" else rng.uniform(0.8, 0.95),
        papillary=tuple(rng.uniform(0, 2 * np.pi, 2)),
    )


def _outline(heart: Heart, phi: np.ndarray, jitter: float) -> np.ndarray:
    k, amp, phase = heart.harmonics.T
    return (
        1.0
        + jitter
        + np.sum(amp[:, None, None] * np.cos(k[:, None, None] * phi + phase[:, None, None]), 0)
    )


def _anatomy(
    heart: Heart, yy: np.ndarray, xx: np.ndarray, t: float, z: int, es: bool, jitter: float
):
    """Boolean masks of one slice: lv, myo, rv, rv_wall, papillary, heart (everything cardiac)."""
    cy = heart.center[0] + heart.drift[0] * z
    cx = heart.center[1] + heart.drift[1] * z
    dy, dx = yy - cy, xx - cx
    rho, phi = np.hypot(dy, dx), np.arctan2(dy, dx)
    taper = np.sqrt(max(0.0, 1.0 - (t / 1.08) ** 2.2))
    r_lv = heart.r_lv * taper**1.4 * (heart.es_lv if es else 1.0)
    wall = (
        heart.thickness
        * (0.6 + 0.4 * taper)
        * (1 + heart.thickness_wave[0] * np.cos(phi - heart.thickness_wave[1]))
    )
    if es:  # keep myocardial area roughly constant: the wall thickens as the cavity shrinks
        r_ed = heart.r_lv * taper**1.4
        wall = np.sqrt((r_ed + wall) ** 2 - r_ed**2 + r_lv**2) - r_lv
    endo = r_lv * _outline(heart, phi, jitter)
    lv = rho < endo
    outer = endo + wall
    myo = (rho < outer) & ~lv
    papillary = np.zeros_like(lv)
    for angle in heart.papillary:
        py, px = cy + 0.62 * r_lv * np.sin(angle), cx + 0.62 * r_lv * np.cos(angle)
        papillary |= np.hypot(yy - py, xx - px) < (0.24 if es else 0.18) * r_lv + 0.5
    papillary &= lv
    rv = np.zeros_like(lv)
    rv_wall = np.zeros_like(lv)
    if t < heart.rv_extent:
        r_out = r_lv + float(np.mean(wall))
        size = (
            heart.rv_scale
            * np.sqrt(1.0 - (t / heart.rv_extent) ** 2)
            * (heart.es_rv if es else 1.0)
        )
        d = heart.rv_direction
        ry, rx = cy + 0.85 * r_out * np.sin(d), cx + 0.85 * r_out * np.cos(d)
        u = (yy - ry) * np.sin(d) + (xx - rx) * np.cos(d)
        v = -(yy - ry) * np.cos(d) + (xx - rx) * np.sin(d)
        a, b = 0.85 * r_out * size + 1.0, 1.45 * r_out * size + 1.0
        ell = (u / a) ** 2 + (v / b) ** 2
        rv = (ell < 1.0) & (rho >= outer)
        rv_wall = (ell >= 1.0) & (ell < (1.0 + 2.2 / a) ** 2) & (rho >= outer)
    heart_mask = lv | myo | rv | rv_wall
    return {
        "lv": lv,
        "myo": myo,
        "rv": rv,
        "rv_wall": rv_wall,
        "papillary": papillary,
        "heart": heart_mask,
        "rho": rho,
        "phi": phi,
        "outer": outer,
    }


def _smooth_field(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    from scipy import ndimage  # here, not at import: every advmim command imports the plug-ins

    field = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return field / (field.std() + 1e-8)


def _bias_field(
    rng: np.random.Generator, shape: tuple[int, int, int], strength: float
) -> np.ndarray:
    n, h, w = shape
    zz, yy, xx = np.meshgrid(
        np.linspace(-1, 1, n), np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij"
    )
    terms = [yy, xx, yy * xx, yy**2, xx**2, 0.3 * zz]
    log_bias = sum(c * term for c, term in zip(rng.uniform(-1, 1, len(terms)), terms, strict=True))
    return np.exp(strength * log_bias / max(1e-6, float(np.abs(log_bias).max())))


class _Scene:
    """Non-cardiac anatomy and tissue intensities of one patient, shared by its ED and ES frames."""

    def __init__(
        self, rng: np.random.Generator, heart: Heart, shape: tuple[int, int, int], scale: float
    ):
        n, h, w = shape
        self.shape, self.scale, self.heart = shape, scale, heart
        weak = rng.random() < 0.2
        self.myo = rng.uniform(0.26, 0.36)
        contrast = rng.uniform(0.2, 0.4) if weak else rng.uniform(0.45, 0.75)
        self.lv_blood = self.myo + contrast
        self.rv_blood = self.myo + contrast * rng.uniform(0.75, 0.95)
        self.tissue = self.myo + rng.uniform(-0.04, 0.08)
        self.liver = self.myo + rng.uniform(-0.02, 0.1)
        self.fat = rng.uniform(0.7, 0.95)
        self.vessel = self.myo + contrast * rng.uniform(0.85, 1.15)
        self.body = (
            h / 2 + rng.uniform(-0.05, 0.05) * h,
            w / 2,
            rng.uniform(0.45, 0.62) * h,
            rng.uniform(0.5, 0.7) * w,
        )
        self.fat_width = rng.uniform(3, 6) * scale
        self.epi_fat = (
            rng.uniform(0, 2 * np.pi),
            rng.uniform(0.6, 2.2),
            rng.uniform(1.0, 2.5) * scale,
        )
        side = rng.uniform(-0.15, 0.15)
        self.liver_center = (
            heart.center[0] + rng.uniform(0.3, 0.45) * h,
            heart.center[1] + side * w,
        )
        self.liver_radii = (rng.uniform(0.25, 0.35) * h, rng.uniform(0.3, 0.45) * w)
        self.aorta = (
            heart.rv_direction + np.pi + rng.uniform(-0.6, 0.6),
            rng.uniform(3.5, 5.5) * scale,
        )
        self.pulmonary = (heart.rv_direction - rng.uniform(0.6, 1.2), rng.uniform(4, 7) * scale)
        self.texture = 0.05 * _smooth_field(rng, shape, 3.0 * scale)
        self.blood_flow = 0.06 * _smooth_field(rng, shape, 2.0 * scale)
        self.bias = _bias_field(rng, shape, rng.uniform(0.15, 0.4))
        self.blur = rng.uniform(0.5, 1.1) * scale
        self.through_plane = rng.uniform(0.05, 0.2)
        self.noise = rng.uniform(0.025, 0.06)
        self.slice_gain = rng.uniform(0.92, 1.08, n)
        # scanner/sequence contrast: a per-patient gamma (log-uniform in [1/1.7, 1.7])
        self.gamma = float(np.exp(rng.uniform(-np.log(1.7), np.log(1.7))))

    def _disk(self, yy, xx, center, radius):
        return np.hypot(yy - center[0], xx - center[1]) < radius

    def paint(self, yy, xx, z: int, t: float, anat: dict) -> np.ndarray:
        """Noise-free intensities of slice ``z`` given its cardiac masks."""
        by, bx, ry, rx = self.body
        ell = np.sqrt(((yy - by) / ry) ** 2 + ((xx - bx) / rx) ** 2)
        img = np.full(yy.shape, 0.02)
        inside = ell < 1.0
        img[inside] = self.tissue
        fat_edge = ell > 1.0 - self.fat_width / min(ry, rx)
        img[inside & fat_edge] = self.fat
        chest = inside & ~fat_edge & (ell > 1.0 - 2.2 * self.fat_width / min(ry, rx))
        img[chest] = self.myo * 0.95
        img += self.texture[z] * inside
        cy, cx = self.heart.center
        lung_off = 0.34 * self.shape[2]
        for sign in (-1.0, 1.0):
            lung = ((yy - cy + 0.05 * self.shape[1]) / (0.28 * self.shape[1])) ** 2 + (
                (xx - cx - sign * lung_off) / (0.16 * self.shape[2])
            ) ** 2 < 1.0
            img[lung & inside & ~fat_edge] = 0.07
        if t > 0.35:
            grow = min(1.0, (t - 0.35) / 0.5)
            ly, lx = self.liver_center
            a, b = self.liver_radii
            liver = ((yy - ly) / (a * grow + 1e-6)) ** 2 + (
                (xx - lx) / (b * grow + 1e-6)
            ) ** 2 < 1.0
            img[liver & inside] = self.liver + self.texture[z][liver & inside] * 0.5
        r_out = float(np.mean(anat["outer"]))
        angle, radius = self.aorta
        dist = r_out + 2.5 * radius + 4 * self.scale
        img[self._disk(yy, xx, (cy + dist * np.sin(angle), cx + dist * np.cos(angle)), radius)] = (
            self.vessel
        )
        if t < 0.3:
            angle, radius = self.pulmonary
            dist = r_out + radius + 2 * self.scale
            img[
                self._disk(yy, xx, (cy + dist * np.sin(angle), cx + dist * np.cos(angle)), radius)
            ] = self.vessel * 0.95
        start, span, width = self.epi_fat
        sector = np.cos(anat["phi"] - start) > np.cos(span / 2)
        epi = sector & (anat["rho"] < anat["outer"] + width) & ~anat["heart"]
        img[epi] = self.fat * 0.85
        img[anat["rv_wall"]] = self.myo
        img[anat["myo"]] = self.myo
        flow = self.blood_flow[z]
        img[anat["rv"]] = self.rv_blood + flow[anat["rv"]]
        img[anat["lv"]] = self.lv_blood + flow[anat["lv"]]
        img[anat["papillary"]] = self.myo + 0.05
        return img

    def finish(self, rng: np.random.Generator, clean: np.ndarray) -> np.ndarray:
        """Partial-volume blur, bias field, per-slice gain and Rician noise."""
        from scipy import ndimage

        img = ndimage.gaussian_filter(clean, (0, self.blur, self.blur))
        if img.shape[0] > 1:
            padded = np.concatenate([img[:1], img, img[-1:]])
            w = self.through_plane
            img = (1 - 2 * w) * img + w * (padded[:-2] + padded[2:])
        img = img * self.bias * self.slice_gain[:, None, None]
        sigma = self.noise * float(img.max())
        real = img + sigma * rng.standard_normal(img.shape)
        imag = sigma * rng.standard_normal(img.shape)
        img = np.sqrt(real**2 + imag**2)
        top = float(img.max())
        return top * (img / top) ** self.gamma


def _crop_window(rng: np.random.Generator, heart: Heart, canvas: tuple[int, int], out: tuple[int, int]):
    """(y0, x0) of an ``out``-sized window of the canvas around the heart (+-5 % jitter)."""
    corner = []
    for c, full, size in zip(heart.center, canvas, out, strict=True):
        start = int(round(c - size / 2 + rng.uniform(-0.05, 0.05) * size))
        corner.append(min(max(0, start), full - size))
    return tuple(corner)


def generate_patient(
    seed: int,
    number: int,
    size: tuple[int, int] = DEFAULT_SIZE,
    slices: tuple[int, int] = DEFAULT_SLICES,
    zoom: tuple[float, float] = (1.0, 1.0),
) -> PhantomPatient:
    """Generate patient ``number`` (1-based) of the phantom drawn from ``seed``.

    A ``zoom`` > 1 (drawn per patient from the (min, max) range) narrows the field of view: the
    patient is drawn on a canvas ``zoom`` times the image size and the image is the window
    around the heart (the heart fills more of it, as in a cardiac crop); the pixel spacing
    shrinks by the same factor, so patients differ in heart size as scanners' fields of view do.
    """
    rng = np.random.default_rng([seed, number])
    h, w = (int(rng.integers(size[0], size[1] + 1)) for _ in range(2))
    n = int(rng.integers(slices[0], slices[1] + 1))
    out_shape = (h, w)
    zoom = float(rng.uniform(*zoom)) if zoom[0] != zoom[1] else float(zoom[0])
    if zoom != 1.0:
        h, w = int(round(h * zoom)), int(round(w * zoom))
    scale = min(h, w) / NOMINAL_SIZE
    group = str(rng.choice(GROUPS))
    heart = _sample_heart(rng, group, (h, w), scale)
    scene = _Scene(rng, heart, (n, h, w), scale)
    nb_frame = int(rng.integers(20, 31))
    es = int(rng.integers(8, 15))
    spacing = (float(rng.uniform(5.0, 10.0)), *(float(rng.uniform(1.2, 1.8)) / zoom,) * 2)
    jitters = rng.uniform(-0.04, 0.04, n)
    y0, x0 = _crop_window(rng, heart, (h, w), out_shape) if zoom != 1.0 else (0, 0)
    window = (slice(None), slice(y0, y0 + out_shape[0]), slice(x0, x0 + out_shape[1]))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = {}
    for frame, is_es in ((1, False), (es, True)):
        clean = np.empty((n, h, w))
        label = np.zeros((n, h, w), np.uint8)
        for z in range(n):
            t = z / max(1, n - 1)
            anat = _anatomy(heart, yy, xx, t, z, is_es, float(jitters[z]))
            clean[z] = scene.paint(yy, xx, z, t, anat)
            label[z][anat["rv"]] = 1
            label[z][anat["myo"]] = 2
            label[z][anat["lv"]] = 3
        image = scene.finish(rng, clean)
        image = np.clip(np.round(image * rng.uniform(300, 900)), 0, 32767).astype(np.int16)
        frames[frame] = (image[window], label[window])
    info = {
        "ED": 1,
        "ES": es,
        "Group": group,
        "Height": round(float(rng.uniform(150, 195)), 1),
        "NbFrame": nb_frame,
        "Weight": round(float(rng.uniform(50, 110)), 1),
    }
    return PhantomPatient(f"patient{number:03d}", info, spacing, frames)


def nifti_bytes(volume_zyx: np.ndarray, spacing_zyx: tuple[float, float, float]) -> bytes:
    """Gzipped NIfTI-1 bytes of a (z, y, x) array (stored x, y, z; SimpleITK reads back z, y, x)."""
    affine = np.diag([spacing_zyx[2], spacing_zyx[1], spacing_zyx[0], 1.0])
    import nibabel as nib

    img = nib.Nifti1Image(np.ascontiguousarray(volume_zyx.transpose(2, 1, 0)), affine)
    img.header.set_data_dtype(volume_zyx.dtype)
    img.header.set_xyzt_units("mm", "sec")
    return gzip.compress(img.to_bytes(), compresslevel=6, mtime=0)


def write_patient(patient: PhantomPatient, training_dir: str | Path) -> Path:
    """Write one patient's Info.cfg and ED/ES image + gt NIfTIs; returns the patient folder."""
    folder = Path(training_dir) / patient.name
    folder.mkdir(parents=True, exist_ok=True)
    for frame, (image, label) in patient.frames.items():
        stem = f"{patient.name}_frame{frame:02d}"
        for suffix, array in (("", image), ("_gt", label)):
            with atomic_open(folder / f"{stem}{suffix}.nii.gz", "wb") as fh:
                fh.write(nifti_bytes(array, patient.spacing))
    write_text(folder / "Info.cfg", "".join(f"{k}: {v}\n" for k, v in patient.info.items()))
    return folder


def write_phantom(
    out: str | Path,
    seed: int,
    patients: int,
    size: tuple[int, int] = DEFAULT_SIZE,
    slices: tuple[int, int] = DEFAULT_SLICES,
    zoom: tuple[float, float] = (1.0, 1.0),
) -> Path:
    """Write ``patients`` phantom patients under ``out/database/training``; returns ``out/database``."""
    if patients < 1:
        raise ConfigError(f"--patients must be >= 1, got {patients}")
    if not 16 <= size[0] <= size[1]:
        raise ConfigError(f"--size must be >= 16 with min <= max, got {size}")
    if not 1 <= slices[0] <= slices[1]:
        raise ConfigError(f"--slices must be >= 1 with min <= max, got {slices}")
    if not 1.0 <= zoom[0] <= zoom[1] <= 4.0:
        raise ConfigError(f"--zoom must be in [1, 4] with min <= max, got {zoom}")
    training = Path(out) / "database" / "training"
    for number in range(1, patients + 1):
        write_patient(generate_patient(seed, number, size, slices, zoom), training)
    return training.parent
