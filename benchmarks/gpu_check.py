"""The GPU check, ready for when a GPU is lent: per-method step times at 224 px in fp32, bf16
autocast and compiled, peak memory, and the throughput of k concurrent jobs on one device.

Usage:
  python benchmarks/gpu_check.py [--methods M ...] [--size 224] [--batch 8] [--iters 5]
         [--warmup 2] [--variants fp32 bf16 compile] [--jobs 1 2 4 8] [--jobs-method M]
         [--record] [--out gpu_check.json]
  python benchmarks/gpu_check.py --smoke   # tiny, on the CPU: checks the script, measures nothing

Each (method, variant) is one ``train_step.py`` process on ``cuda`` (so peak memory is that
variant's own); ``compile`` is ``training.compile: true`` in fp32, its first warm-up step
compiling. Concurrency: k processes of ``--jobs-method`` started at once on the same device, as
``gpu_jobs_per_device: k`` places them; the figure is their summed iterations per second against
one job's. ``--record`` stores every step time in benchmarks/step_times.json (device "cuda", the
GPU's name; ``advmim plan`` then prints GPU-hours). Writes the results as JSON to ``--out`` and
prints them as Markdown tables.

``--smoke`` runs the same code on the CPU at 32 px, batch 2, one step, the first method, fp32 and
k = 1, 2 (bf16 where this CPU runs it natively; compile is skipped: inductor needs tens of
seconds per network on a CPU). A test runs it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TRAIN_STEP = HERE / "train_step.py"
DEFAULT_METHODS = ["supervised_unet", "mean_teacher", "uamt", "entropy_min", "ict", "cct", "cps",
                   "urpc", "dct", "ctct", "advmim", "full_unet", "supervised_swin"]
VARIANTS = {"fp32": [], "bf16": ["--amp", "bf16"], "compile": ["--compile"]}
RESULT = re.compile(r"ms_per_iter=([0-9.]+) peak_rss_mb=([0-9.]+) peak_mem_mb=([0-9.]+)")


def step_command(method: str, variant: str, args, record: bool = False) -> list[str]:
    cmd = [sys.executable, str(TRAIN_STEP), "--method", method, "--size", str(args.size),
           "--batch", str(args.batch), "--iters", str(args.iters), "--warmup", str(args.warmup),
           "--device", args.device, "--threads", str(args.threads), *VARIANTS[variant]]
    if not args.smoke:
        cmd.append("--paper")  # paper network sizes (smoke: the config's small ones)
    if record:
        cmd += ["--record", "--record-file", str(args.record_file)]
    return cmd


def parse(out: str) -> dict:
    m = RESULT.search(out)
    if m is None:
        raise RuntimeError(f"no result line in:\n{out[-2000:]}")
    return {"ms_per_iter": float(m.group(1)), "peak_mem_mb": float(m.group(3))}


def run_one(cmd: list[str]) -> dict:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        return {"error": (done.stderr or done.stdout).strip().splitlines()[-1][:300]}
    return parse(done.stdout)


def concurrent(k: int, args) -> dict:
    """k train_step processes of ``--jobs-method`` at once: each one's ms/iter and the sum of
    their iterations per second."""
    cmd = step_command(args.jobs_method, "fp32", args)
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(k)]
    results = []
    for p in procs:
        out, err = p.communicate()
        if p.returncode:
            return {"error": err.strip().splitlines()[-1][:300] if err.strip() else f"exit {p.returncode}"}
        results.append(parse(out))
    ms = [r["ms_per_iter"] for r in results]
    return {"ms_per_iter_each": statistics.median(ms),
            "iters_per_s_total": round(sum(1000 / m for m in ms), 3),
            "peak_mem_mb_each": max(r["peak_mem_mb"] for r in results),
            "wall_s": round(time.perf_counter() - t0, 1)}


def tables(results: dict) -> list[str]:
    lines = [f"device: {results['device']}", "",
             "| method | " + " | ".join(f"{v} ms/iter | {v} peak MB" for v in results["variants"]) + " |",
             "|---|" + "---:|---:|" * len(results["variants"])]
    for method, row in results["steps"].items():
        cells = []
        for v in results["variants"]:
            r = row[v]
            if "ms_per_iter" in r:
                cells += [f"{r['ms_per_iter']:,.1f}", f"{r['peak_mem_mb']:,.0f}"]
            else:
                cells += [r.get("error") or f"skipped ({r['skipped']})", "-"]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    one = results["concurrency"].get("1", {}).get("iters_per_s_total")
    lines += ["", f"k concurrent {results['jobs_method']} jobs on one device:", "",
              "| k | ms/iter each | iterations/s, all jobs | vs one job | peak MB each |", "|---:|---:|---:|---:|---:|"]
    for k, r in results["concurrency"].items():
        if "error" in r:
            lines.append(f"| {k} | {r['error']} | | | |")
            continue
        gain = f"{r['iters_per_s_total'] / one:.2f}x" if one else "-"
        lines.append(f"| {k} | {r['ms_per_iter_each']:,.1f} | {r['iters_per_s_total']:,.2f} | {gain} | "
                     f"{r['peak_mem_mb_each']:,.0f} |")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", nargs="+", default=DEFAULT_METHODS)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--jobs", nargs="+", type=int, default=[1, 2, 4, 8])
    ap.add_argument("--jobs-method", default="supervised_unet")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--record", action="store_true", help="store the step times for advmim plan")
    ap.add_argument("--record-file", type=Path, default=HERE / "step_times.json")
    ap.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    ap.add_argument("--smoke", action="store_true", help="tiny CPU run that checks the script")
    args = ap.parse_args(argv)
    skipped = set()
    if args.smoke:
        args.device, args.size, args.batch, args.iters, args.warmup = "cpu", 32, 2, 1, 1
        args.methods, args.jobs, args.threads = args.methods[:1], [1, 2], 1
        skipped.add("compile")
    results = {"device": args.device, "size": args.size, "batch": args.batch,
               "variants": args.variants, "jobs_method": args.jobs_method, "steps": {},
               "concurrency": {}}
    for method in args.methods:
        row = results["steps"][method] = {}
        for variant in args.variants:
            if variant in skipped:
                row[variant] = {"skipped": "smoke"}
                continue
            row[variant] = run_one(step_command(method, variant, args, record=args.record))
            print(method, variant, row[variant], flush=True)
    for k in args.jobs:
        results["concurrency"][str(k)] = concurrent(k, args)
        print("jobs", k, results["concurrency"][str(k)], flush=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print("\n".join(tables(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
