"""benchmarks/dag.py on a fake finished results folder."""

import os

import pytest

from benchmarks import dag

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, seconds, end, rss="100.0"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:00\t{rss}\t1\t1\t1\t0\t0\t50\t{seconds}\n")
    os.utime(path, (end, end))


@pytest.fixture
def results(tmp_path):
    b = tmp_path / "results" / "benchmarks"
    _bench(b / "phantom.tsv", 10.0, 1010.0)
    _bench(b / "train" / "phantom" / "a_L2_seed0.tsv", 40.0, 1050.0, rss="700.5")
    _bench(b / "train" / "phantom" / "b_L2_seed0.tsv", 30.0, 1045.0)
    _bench(b / "evaluate" / "phantom" / "a_L2_seed0.tsv", 10.0, 1060.0, rss="NA")
    (b / "empty.tsv").write_text("")
    return tmp_path / "results"


def test_read_jobs_and_summary_from_span(results):
    jobs = dag.read_jobs(results / "benchmarks")
    assert len(jobs) == 4
    assert {j.rule for j in jobs} == {"phantom", "train", "evaluate"}
    res = dag.summarize(jobs, slots=2)
    # first job starts at 1000, last ends at 1060; sum 90 s on 2 slots -> ideal 45 s
    assert res["wall_s"] == pytest.approx(60.0)
    assert res["sum_job_s"] == pytest.approx(90.0)
    assert res["ratio"] == pytest.approx(60.0 / 45.0)
    assert dag.by_rule(jobs)["train"] == (2, 70.0, 700.5)


def test_log_gives_cores_and_elapsed(results, tmp_path, capsys):
    log = tmp_path / ".snakemake" / "log" / "2026-01-01T000000.000000.snakemake.log"
    log.parent.mkdir(parents=True)
    log.write_text("Building DAG of jobs...\nProvided cores: 2\n...\nElapsed time: 0:00:50.5\n")
    assert dag.parse_log(log) == {"cores": 2, "elapsed_s": 50.5}
    assert dag.find_log(results) == log
    assert dag.main([str(results)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "wall_s=50.5 sum_job_s=90.0 slots=2 ratio=1.122"


def test_slots_required_without_log(results, capsys):
    assert dag.main([str(results), "--log", str(results / "none.log")]) == 1
    assert dag.main([str(results), "--log", str(results / "none.log"), "--slots", "3"]) == 0
    assert "slots=3" in capsys.readouterr().out


def test_days_in_elapsed(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("Elapsed time: 1 day, 2:03:04.5\n")
    assert dag.parse_log(log)["elapsed_s"] == pytest.approx(86400 + 7384.5)


def test_no_jobs(tmp_path):
    with pytest.raises(ValueError):
        dag.summarize([], slots=1)
