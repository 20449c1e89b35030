"""How well a finished workflow run packed its jobs: wall time vs the sum of job times / slots.

Usage: python benchmarks/dag.py [RESULTS_DIR] [--log SNAKEMAKE_LOG] [--slots N]

Reads every Snakemake benchmark file ``RESULTS_DIR/benchmarks/**/*.tsv`` (columns ``s``,
``max_rss``, ...; a file holds one row per repeat, the first is used). The wall time comes from
the Snakemake log (``Elapsed time:``; default: the newest ``.snakemake/log/*.snakemake.log`` next
to RESULTS_DIR) or, without a log, from the span of the job times (a benchmark file is written
when its job ends, so a job ran from ``mtime - s`` to ``mtime``). The job slots are ``--slots``,
else the log's ``Provided cores:``. Prints one line per rule and a final line
``wall_s=... sum_job_s=... slots=... ratio=...`` where ratio = wall / (sum / slots); a perfectly
packed DAG with no scheduling overhead has ratio 1 (goal <= 1.15).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Job:
    name: str       # benchmark file path relative to the benchmarks folder, without .tsv
    seconds: float
    max_rss_mb: float | None
    end: float      # file modification time (job end), seconds since the epoch

    @property
    def rule(self) -> str:
        return self.name.split("/")[0] if "/" in self.name else self.name.split("_")[0]


def read_jobs(bench_dir: Path) -> list[Job]:
    """One :class:`Job` per benchmark TSV under ``bench_dir`` (recursive)."""
    jobs = []
    for path in sorted(Path(bench_dir).rglob("*.tsv")):
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if not rows or "s" not in rows[0]:
            continue
        rss = rows[0].get("max_rss", "NA")
        jobs.append(Job(
            name=str(path.relative_to(bench_dir).with_suffix("")),
            seconds=float(rows[0]["s"]),
            max_rss_mb=None if rss in ("NA", "", None) else float(rss),
            end=path.stat().st_mtime,
        ))
    return jobs


def parse_log(path: Path) -> dict:
    """``cores`` (Provided cores) and ``elapsed_s`` (Elapsed time) from a Snakemake log."""
    text = Path(path).read_text(errors="replace")
    out: dict = {}
    if m := re.search(r"Provided cores:\s*(\d+)", text):
        out["cores"] = int(m.group(1))
    if m := re.search(r"Elapsed time:\s*(?:(\d+) days?, )?(\d+):(\d+):(\d+(?:\.\d+)?)", text):
        days, h, mi, s = m.groups()
        out["elapsed_s"] = int(days or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + float(s)
    return out


def find_log(results_dir: Path) -> Path | None:
    """The newest Snakemake log of the project that wrote ``results_dir`` (if any)."""
    for base in (results_dir.resolve().parent, Path.cwd()):
        logs = sorted((base / ".snakemake" / "log").glob("*.snakemake.log"))
        if logs:
            return logs[-1]
    return None


def summarize(jobs: list[Job], slots: int, wall_s: float | None = None) -> dict:
    """Wall time (given, else span of job times), sum of job times, slots and the ratio."""
    if not jobs:
        raise ValueError("no benchmark files found")
    span = max(j.end for j in jobs) - min(j.end - j.seconds for j in jobs)
    wall = span if wall_s is None else wall_s
    total = sum(j.seconds for j in jobs)
    return {
        "jobs": len(jobs),
        "wall_s": wall,
        "span_s": span,
        "sum_job_s": total,
        "slots": slots,
        "ratio": wall / (total / slots) if total > 0 else float("nan"),
    }


def by_rule(jobs: list[Job]) -> dict[str, tuple[int, float, float]]:
    """rule -> (jobs, summed seconds, largest max_rss MiB)."""
    out: dict[str, tuple[int, float, float]] = {}
    for j in jobs:
        n, s, rss = out.get(j.rule, (0, 0.0, 0.0))
        out[j.rule] = (n + 1, s + j.seconds, max(rss, j.max_rss_mb or 0.0))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="?", type=Path, default=Path("results"))
    ap.add_argument("--log", type=Path, default=None, help="Snakemake log (default: newest)")
    ap.add_argument("--slots", type=int, default=None, help="job slots (default: log's cores)")
    args = ap.parse_args(argv)
    jobs = read_jobs(args.results / "benchmarks")
    if not jobs:
        print(f"no benchmark files under {args.results / 'benchmarks'}", file=sys.stderr)
        return 1
    log = args.log or find_log(args.results)
    info = parse_log(log) if log and log.is_file() else {}
    slots = args.slots or info.get("cores")
    if slots is None:
        print("job slots unknown: pass --slots (no Snakemake log found)", file=sys.stderr)
        return 1
    res = summarize(jobs, slots, info.get("elapsed_s"))
    for rule, (n, s, rss) in sorted(by_rule(jobs).items(), key=lambda kv: -kv[1][1]):
        print(f"{rule:<24} jobs={n:<4} sum_s={s:9.1f} max_rss_mb={rss:8.1f}")
    source = f"log {log}" if "elapsed_s" in info else "span of job times"
    print(f"wall from {source}; span of job times {res['span_s']:.1f} s")
    print(
        f"wall_s={res['wall_s']:.1f} sum_job_s={res['sum_job_s']:.1f} slots={res['slots']} "
        f"ratio={res['ratio']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
