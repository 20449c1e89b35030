"""Time one training iteration (``Method.train_step``) of a method on random batches.

Usage:
  python benchmarks/train_step.py --method advmim --size 224 --batch 8 --iters 2 [--threads 2]
         [--config config/config.yaml] [--paper] [--warmup 1] [--amp bf16] [--compile]
         [--device cuda] [--record]

``--size 224`` (or ``--paper``) uses the paper network sizes (U-Net 16..256, Swin-UNet embed 96,
depths 2-2-2-2, heads 3-6-12-24, window 7; AdvMIM mask block 32); otherwise the model sizes come
from the config. ``--batch B`` means B labeled + B unlabeled images (methods that use no
unlabeled data get only the B labeled ones). ``--record`` stores the median in
benchmarks/step_times.json (with the device and settings it was measured with) for
``advmim plan`` (``device`` "cuda" with the GPU's name when ``--device cuda``).
``--compile`` sets the training setting ``compile`` (the first warm-up step compiles). Prints a
final line ``ms_per_iter=<float> peak_rss_mb=<float> peak_mem_mb=<float>`` (peak_mem_mb: the CUDA
allocator's peak on a GPU, peak RSS on CPU).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from advmim.host_memory import reuse_freed_memory

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    DEFAULT_CONFIG,
    bench_settings,
    build_method,
    load_average,
    machine,
    median_ms,
    peak_rss_mb,
    random_batch,
    timed,
)

STEP_TIMES = Path(__file__).resolve().parent / "step_times.json"


def time_steps(method, batch, iters: int, warmup: int, start: int = 0, amp: str = "off") -> list[float]:
    """Seconds per ``train_step`` call for ``iters`` calls after ``warmup`` untimed ones,
    under the training loop's autocast for ``amp`` (as ``advmim train`` runs it)."""
    from advmim.train.precision import amp_dtype, autocast

    dtype = amp_dtype(amp, method.device)
    if amp != "off" and dtype is None:
        raise SystemExit(f"amp {amp!r} does not run on {method.device} here (it would train in fp32)")

    def step(it):
        with autocast(dtype, method.device):
            method.train_step(batch, it)
        if method.device.type == "cuda":
            torch.cuda.synchronize(method.device)

    method.train_mode()
    for it in range(start, start + warmup):
        step(it)
    return [timed(lambda it=it: step(it)) for it in range(start + warmup, start + warmup + iters)]


def record(path: Path, entry: dict) -> None:
    """Add/replace ``entry`` (keyed by method, device, size, batch) in the step-times file."""
    from advmim.plan import load_step_times, save_step_times

    data = load_step_times(path) if path.exists() else {"entries": []}
    key = ("method", "device", "img_size", "batch_labeled", "batch_unlabeled", "threads", "amp",
           "compile")
    absent = {"amp": "off", "compile": False}  # what an entry without the key was measured with

    def ident(e):
        return tuple(e.get(k, absent.get(k)) for k in key)

    data["entries"] = [e for e in data["entries"] if ident(e) != ident(entry)] + [entry]
    save_step_times(path, data)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="advmim")
    ap.add_argument("--size", type=int, default=None, help="image size (default: config)")
    ap.add_argument("--batch", type=int, default=None, help="labeled (= unlabeled) batch size")
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    ap.add_argument("--paper", action="store_true", help="paper model sizes (implied by --size 224)")
    ap.add_argument("--amp", choices=["off", "bf16", "fp16"], default="off",
                    help="autocast as the training setting amp (default off: fp32)")
    ap.add_argument("--compile", action="store_true", help="training setting compile: true")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (default cpu)")
    ap.add_argument("--record", action="store_true", help=f"store the result in {STEP_TIMES.name}")
    ap.add_argument("--record-file", type=Path, default=STEP_TIMES)
    args = ap.parse_args(argv)

    reuse_freed_memory()  # as every advmim command does
    torch.set_num_threads(args.threads)
    settings = bench_settings(args.method, args.size, args.batch, args.config, args.paper)
    settings["compile"] = args.compile
    device = torch.device(args.device)
    method = build_method(settings, device)
    batch = random_batch(settings, device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    n_unl = 0 if batch.xu is None else batch.xu.shape[0]
    print(
        f"{args.method}: {settings['img_size']} px, batch {batch.xl.shape[0]}+{n_unl}, "
        f"{'fp32' if args.amp == 'off' else args.amp + ' autocast'}{', compiled' if args.compile else ''}, "
        f"{args.threads} threads, {device}; load {load_average()}; {machine(device)}",
        flush=True,
    )
    load = load_average()  # stored with --record: a loaded machine gives pessimistic step times
    times = time_steps(method, batch, args.iters, args.warmup, amp=args.amp)
    for k, t in enumerate(times):
        print(f"iter {k}: {t * 1000:.1f} ms", flush=True)
    ms, rss = median_ms(times), peak_rss_mb()
    from advmim.train.gpu import peak_memory_mb

    peak = peak_memory_mb(device)
    if args.record:
        from datetime import date

        record(args.record_file, {
            "method": args.method,
            "device": device.type,
            "device_name": machine(device),
            "threads": args.threads,
            "amp": args.amp,
            "compile": args.compile,
            "peak_mem_mb": round(peak, 1),
            "img_size": settings["img_size"],
            "batch_labeled": settings["batch_labeled"],
            "batch_unlabeled": n_unl,
            "paper_sizes": bool(args.paper or args.size == 224),
            "ms_per_iter": round(ms, 1),
            "iters": args.iters,
            "date": date.today().isoformat(),
            "load_at_start": load,
            "command": "python benchmarks/train_step.py " + " ".join(sys.argv[1:] if argv is None else argv),
        })
    print(f"ms_per_iter={ms:.1f} peak_rss_mb={rss:.1f} peak_mem_mb={peak:.1f}")


if __name__ == "__main__":
    main()
