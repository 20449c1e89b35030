#!/usr/bin/env bash
# Stop the private cluster that start-cluster.sh started in ADVMIM_SLURM_DIR (slurmd, slurmctld,
# munged), by the pid files in that folder only. Safe to run when nothing is running.
set -euo pipefail

[[ -n ${ADVMIM_SLURM_DIR:-} ]] || { echo "[stop-cluster] set ADVMIM_SLURM_DIR" >&2; exit 1; }
RUN=$ADVMIM_SLURM_DIR/run

stop_pidfile() {
    local f=$1 pid
    [[ -s $f ]] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        echo "[stop-cluster] stopping $(basename "$f" .pid) ($pid)" >&2
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    fi
    rm -f "$f"
}

stop_pidfile "$RUN/slurmd.pid"
stop_pidfile "$RUN/slurmctld.pid"
stop_pidfile "$RUN/munged.pid"
