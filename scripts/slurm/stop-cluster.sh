#!/usr/bin/env bash
# Stop the single-node SLURM cluster started by start-cluster.sh (slurmd, slurmctld, munged).
# Set ADVMIM_SLURM_KEEP_MUNGE=1 to leave munged running. Safe to run when nothing is running.
set -euo pipefail

stop_pidfile() {
    local f=$1 pid
    [[ -s $f ]] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        echo "[stop-cluster] stopping $(basename "$f" .pid) ($pid)" >&2
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    fi
    rm -f "$f"
}

stop_pidfile /run/slurmd.pid
stop_pidfile /run/slurmctld.pid
if [[ ${ADVMIM_SLURM_KEEP_MUNGE:-0} != 1 ]]; then
    stop_pidfile /run/munge/munged.pid
fi
