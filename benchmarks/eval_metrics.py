"""Time paper-mode metrics (ours) against medpy dc + hd95 on ACDC-sized label volumes.

Usage: python benchmarks/eval_metrics.py [--volumes N] [--repeats R] [--seed S]
Prints one line per volume and a final ``ours_ms=... medpy_ms=... speedup=...x identical=...``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from medpy.metric import binary
from scipy import ndimage

from advmim.metrics import evaluate_volume

CLASSES = ["RV", "Myo", "LV"]
SHAPE = (10, 216, 256)  # typical ACDC (z, y, x)


def _ellipsoid(shape, center, radii) -> np.ndarray:
    grids = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grids, center, radii, strict=True)) <= 1.0


def _noisy(mask: np.ndarray, rng: np.random.Generator, amount: float = 8.0) -> np.ndarray:
    """Perturb a mask's boundary: smooth random noise added to its signed distance."""
    noise = ndimage.gaussian_filter(rng.standard_normal(mask.shape), sigma=(0.5, 3, 3)) * amount
    sdf = ndimage.distance_transform_edt(mask) - ndimage.distance_transform_edt(~mask)
    return sdf + noise > 0


def heart(rng: np.random.Generator, shape=SHAPE) -> np.ndarray:
    """A cardiac-like label volume: LV (3) inside myocardium (2), RV (1) beside it."""
    z, y, x = shape
    c = np.array([z / 2, y / 2, x / 2]) + rng.normal(0, 1, 3) * np.array([0.3, 8, 8])
    r_lv = np.array([z * 0.45, 22, 24]) * rng.uniform(0.85, 1.15)
    lab = np.zeros(shape, np.uint8)
    epi = _noisy(_ellipsoid(shape, c, r_lv + [0.5, 8, 8]), rng)
    rv = _noisy(_ellipsoid(shape, c + [0, 6, -38], r_lv * [1, 1.3, 0.9]), rng)
    lab[rv & ~epi] = 1
    lab[epi] = 2
    lab[_noisy(_ellipsoid(shape, c, r_lv), rng) & epi] = 3
    return lab


def predict(gt: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible prediction: shifted, boundary-perturbed labels, sometimes a spurious blob."""
    shifted = np.roll(gt, tuple(rng.integers(-2, 3, size=2)), axis=(1, 2))
    pred = np.zeros_like(gt)
    for label in (1, 2, 3):
        pred[_noisy(shifted == label, rng, amount=4.0)] = label
    if rng.random() < 0.5:
        z, y, x = (int(rng.integers(0, n)) for n in gt.shape)
        pred[z, max(y - 3, 0) : y + 3, max(x - 3, 0) : x + 3] = rng.integers(1, 4)
    return pred


def medpy_metrics(pred: np.ndarray, gt: np.ndarray) -> dict:
    """Reference: medpy dc/hd95 per class (both masks are non-empty here)."""
    out = {"dice": {}, "hd95": {}}
    for i, name in enumerate(CLASSES, start=1):
        out["dice"][name] = binary.dc(pred == i, gt == i)
        out["hd95"][name] = binary.hd95(pred == i, gt == i)
    return out


def _time(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--volumes", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    ours_ms, medpy_ms, identical = [], [], True
    for k in range(args.volumes):
        gt = heart(rng)
        pred = predict(gt, rng)
        t_ours, ours = _time(
            lambda g=gt, p=pred: evaluate_volume(p, g, CLASSES, "paper"), args.repeats
        )
        t_ref, ref = _time(lambda g=gt, p=pred: medpy_metrics(p, g), args.repeats)
        same = all(ours[m] == ref[m] for m in ("dice", "hd95"))
        identical &= same
        ours_ms.append(t_ours)
        medpy_ms.append(t_ref)
        print(
            f"volume {k}: ours {t_ours:.1f} ms, medpy {t_ref:.1f} ms, identical={same}, "
            f"dice={[round(v, 3) for v in ours['dice'].values()]}, "
            f"hd95={[round(v, 2) for v in ours['hd95'].values()]}"
        )
    o, m = statistics.median(ours_ms), statistics.median(medpy_ms)
    print(f"ours_ms={o:.2f} medpy_ms={m:.2f} speedup={m / o:.1f}x identical={identical}")


if __name__ == "__main__":
    main()
