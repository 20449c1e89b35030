#!/usr/bin/env bash
# Start a private single-node SLURM cluster on localhost (for tests and single-machine use).
#
# Everything lives under one folder, ADVMIM_SLURM_DIR (required): slurm.conf and gres.conf (two
# fake GPUs backed by /dev/null and /dev/zero), a munge key and socket, state, logs and pid files.
# Its own munged, slurmctld and slurmd are started by hand (no systemd, no cgroups) on free
# ports, with `-f DIR/etc/slurm.conf`. Nothing under /etc, /var or /run is read or written, so an
# existing cluster on the machine is never touched. Clients find the cluster with
#   export SLURM_CONF=$ADVMIM_SLURM_DIR/etc/slurm.conf
# (printed as the last line on stdout), or through the wrappers in $ADVMIM_SLURM_DIR/bin (srun,
# sbatch, squeue, ...: they set SLURM_CONF themselves, which matters inside jobs, where
# Snakemake's jobstep plugin drops SLURM_* variables before calling srun):
#   export PATH=$ADVMIM_SLURM_DIR/bin:$PATH
# Stop it with stop-cluster.sh (same ADVMIM_SLURM_DIR).
# Idempotent: daemons already running from this folder with the same configuration are kept.
#
# Installs Debian's slurm-wlm and munge with apt-get when they are missing (root only; exit
# status 3 when they cannot be installed: tests skip on it, and only on it).
#
# `start-cluster.sh --install-only` only installs the packages.
# Environment: ADVMIM_SLURM_DIR (required), ADVMIM_SLURM_GPUS (fake GPUs, default 2, max 2),
#              ADVMIM_SLURM_PARTITION (default "debug"), ADVMIM_SLURM_TIMEOUT (s, default 60).
set -euo pipefail

PARTITION=${ADVMIM_SLURM_PARTITION:-debug}
NGPUS=${ADVMIM_SLURM_GPUS:-2}
TIMEOUT=${ADVMIM_SLURM_TIMEOUT:-60}

log() { echo "[start-cluster] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# Exit status 3: the packages could not be installed (tests skip on it, and only on it).
die_install() { log "ERROR: $*"; exit 3; }

[[ -n ${ADVMIM_SLURM_DIR:-} ]] || die "set ADVMIM_SLURM_DIR to the folder the cluster lives in"
mkdir -p "$ADVMIM_SLURM_DIR"
BASE=$(cd "$ADVMIM_SLURM_DIR" && pwd)
CONF=$BASE/etc/slurm.conf
GRES=$BASE/etc/gres.conf
MUNGE=$BASE/munge
RUN=$BASE/run

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && command -v sinfo >/dev/null; then
        return 0
    fi
    [[ $(id -u) -eq 0 ]] || die_install "slurm-wlm and munge are missing and installing them needs root"
    log "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    command -v apt-get >/dev/null || die_install "no apt-get: install slurm-wlm and munge yourself"
    apt-get update -qq || die_install "apt-get update failed"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
        || die_install "apt-get install slurm-wlm munge failed"
}

running() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

munge_ok() { munge --socket="$MUNGE/munge.socket" -n 2>/dev/null \
    | unmunge --socket="$MUNGE/munge.socket" >/dev/null 2>&1; }

start_munge() {
    # The socket's folder must be searchable by all; the key's folder private.
    mkdir -p "$MUNGE" "$BASE/munge-key"
    chmod 0755 "$MUNGE"
    chmod 0700 "$BASE/munge-key"
    if [[ ! -s $BASE/munge-key/munge.key ]]; then
        dd if=/dev/urandom of="$BASE/munge-key/munge.key" bs=1024 count=1 status=none
    fi
    chmod 0400 "$BASE/munge-key/munge.key"
    if ! running "$RUN/munged.pid" || ! munge_ok; then
        log "starting munged (socket $MUNGE/munge.socket)"
        munged --force --socket="$MUNGE/munge.socket" --key-file="$BASE/munge-key/munge.key" \
            --pid-file="$RUN/munged.pid" --log-file="$BASE/log/munged.log" \
            --seed-file="$BASE/munge-key/munged.seed"
        for _ in $(seq 50); do
            munge_ok && return 0
            sleep 0.1
        done
        die "munged does not answer (see $BASE/log/munged.log)"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

write_conf() {
    # Print slurm.conf for this machine on stdout ($1, $2: slurmctld and slurmd ports).
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc --all)
    # Leave a small margin: a RealMemory above what slurmd measures drains the node.
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mem=$(( mem > 512 ? mem - 256 : mem ))
    cat <<CONF
# Written by scripts/slurm/start-cluster.sh (advmim): private single-node test cluster.
ClusterName=advmim
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=$BASE/state/slurmctld
SlurmdSpoolDir=$BASE/state/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldPort=$1
SlurmdPort=$2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# Finished jobs stay visible to squeue for 300 s (Snakemake's squeue status polling).
MinJobAge=300
ReturnToService=2
MpiDefault=none
GresTypes=gpu
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem Gres=gpu:$NGPUS State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
}

write_gres() {
    local host devs=(/dev/null /dev/zero) i
    host=$(hostname -s)
    echo "# Fake GPUs for tests (a GPU gres needs a File=; jobs get CUDA_VISIBLE_DEVICES)."
    for (( i = 0; i < NGPUS; i++ )); do
        echo "NodeName=$host Name=gpu File=${devs[$i]}"
    done
}

write_wrappers() {
    local cmd real
    mkdir -p "$BASE/bin"
    for cmd in sbatch srun squeue scontrol sinfo scancel sacct salloc sstat; do
        real=$(command -v "$cmd") || continue
        printf '#!/bin/sh\nSLURM_CONF=%q exec %q "$@"\n' "$CONF" "$real" >"$BASE/bin/$cmd"
        chmod 0755 "$BASE/bin/$cmd"
    done
}

stop_slurm() {
    local f
    for f in "$RUN/slurmd.pid" "$RUN/slurmctld.pid"; do
        if running "$f"; then
            kill "$(cat "$f")"
            for _ in $(seq 50); do running "$f" || break; sleep 0.1; done
        fi
        rm -f "$f"
    done
}

main() {
    (( NGPUS >= 1 && NGPUS <= 2 )) || die "ADVMIM_SLURM_GPUS must be 1 or 2"
    install_packages
    [[ ${1:-} != --install-only ]] || return 0
    mkdir -p "$BASE/etc" "$BASE/log" "$BASE/state/slurmctld" "$BASE/state/slurmd" "$RUN"
    start_munge
    export SLURM_CONF=$CONF
    write_wrappers

    local ports new_conf new_gres changed=0
    # Keep the ports of a running cluster from this folder; otherwise take two free ones.
    ports=$( { sed -n 's/^Slurm\(ctld\|d\)Port=//p' "$CONF" 2>/dev/null || true; } | tr '\n' ' ')
    if [[ -z $ports ]] || ! running "$RUN/slurmctld.pid"; then
        ports="$(free_port) $(free_port)"
    fi
    # shellcheck disable=SC2086
    new_conf=$(write_conf $ports)
    new_gres=$(write_gres)
    if [[ ! -f $CONF ]] || [[ $(cat "$CONF") != "$new_conf" ]] \
        || [[ ! -f $GRES ]] || [[ $(cat "$GRES") != "$new_gres" ]]; then
        changed=1
        printf '%s\n' "$new_conf" >"$CONF"
        printf '%s\n' "$new_gres" >"$GRES"
        log "wrote $CONF and gres.conf"
    fi

    if (( changed )) || ! running "$RUN/slurmctld.pid" || ! running "$RUN/slurmd.pid"; then
        stop_slurm
        log "starting slurmctld and slurmd (-f $CONF)"
        slurmctld -f "$CONF"
        slurmd -f "$CONF"
    fi

    local host deadline state
    host=$(hostname -s)
    deadline=$(( SECONDS + TIMEOUT ))
    while (( SECONDS < deadline )); do
        state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null | head -n1 || true)
        case $state in
            idle|mixed|allocated|completing)
                log "node $host is $state"; sinfo >&2; echo "SLURM_CONF=$CONF"; return 0 ;;
            drain*|down*|fail*)
                log "node $host is $state; resuming"
                scontrol update nodename="$host" state=resume || true ;;
        esac
        sleep 0.3
    done
    log "node did not become idle in ${TIMEOUT}s; last state '${state:-?}'"
    tail -n 20 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" >&2 || true
    exit 1
}

main "$@"
