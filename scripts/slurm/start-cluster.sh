#!/usr/bin/env bash
# Start a single-node SLURM cluster on localhost (for tests and single-machine use).
#
# Installs Debian's slurm-wlm and munge if missing, writes /etc/slurm/slurm.conf and
# gres.conf (two fake GPUs backed by /dev/null and /dev/zero), starts munged, slurmctld and
# slurmd by hand (no systemd, no cgroups) and waits until the node is idle.
# Idempotent: daemons already running with the same configuration are left alone.
# Needs root (exit status 3 when the packages cannot be installed). Accounting is off: use `--slurm-status-command squeue` with Snakemake.
#
# Environment: ADVMIM_SLURM_GPUS (fake GPUs, default 2, max 2),
#              ADVMIM_SLURM_PARTITION (default "debug"), ADVMIM_SLURM_TIMEOUT (s, default 60).
set -euo pipefail

CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
STATE_DIR=/var/lib/slurm
PARTITION=${ADVMIM_SLURM_PARTITION:-debug}
NGPUS=${ADVMIM_SLURM_GPUS:-2}
TIMEOUT=${ADVMIM_SLURM_TIMEOUT:-60}

log() { echo "[start-cluster] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# Exit status 3: the packages could not be installed (tests skip on it, and only on it).
die_install() { log "ERROR: $*"; exit 3; }

[[ $(id -u) -eq 0 ]] || die_install "must run as root (installs packages, starts daemons)"

install_packages() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v munged >/dev/null && command -v sinfo >/dev/null; then
        return 0
    fi
    log "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    command -v apt-get >/dev/null || die_install "no apt-get: install slurm-wlm and munge yourself"
    apt-get update -qq || die_install "apt-get update failed"
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null \
        || die_install "apt-get install slurm-wlm munge failed"
}

start_munge() {
    mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
    if [[ ! -s /etc/munge/munge.key ]]; then
        log "creating munge key"
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge
    chmod 0700 /etc/munge /var/lib/munge /var/log/munge
    chmod 0400 /etc/munge/munge.key
    chmod 0755 /run/munge
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        log "starting munged"
        runuser -u munge -- munged --force
        for _ in $(seq 50); do
            munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && return 0
            sleep 0.1
        done
        die "munged does not answer"
    fi
}

write_conf() {
    # Print slurm.conf for this machine on stdout.
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc --all)
    # Leave a small margin: a RealMemory above what slurmd measures drains the node.
    mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mem=$(( mem > 512 ? mem - 256 : mem ))
    cat <<CONF
# Written by scripts/slurm/start-cluster.sh (advmim): single-node test cluster.
ClusterName=advmim
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
StateSaveLocation=$STATE_DIR/slurmctld
SlurmdSpoolDir=$STATE_DIR/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
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

running() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_slurm() {
    local f
    for f in /run/slurmd.pid /run/slurmctld.pid; do
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
    start_munge
    mkdir -p "$CONF_DIR" "$LOG_DIR" "$STATE_DIR/slurmctld" "$STATE_DIR/slurmd"

    local new_conf new_gres changed=0
    new_conf=$(write_conf)
    new_gres=$(write_gres)
    if [[ ! -f $CONF_DIR/slurm.conf ]] || [[ $(cat "$CONF_DIR/slurm.conf") != "$new_conf" ]] \
        || [[ ! -f $CONF_DIR/gres.conf ]] || [[ $(cat "$CONF_DIR/gres.conf") != "$new_gres" ]]; then
        changed=1
        printf '%s\n' "$new_conf" >"$CONF_DIR/slurm.conf"
        printf '%s\n' "$new_gres" >"$CONF_DIR/gres.conf"
        log "wrote $CONF_DIR/slurm.conf and gres.conf"
    fi

    if (( changed )) || ! running /run/slurmctld.pid || ! running /run/slurmd.pid; then
        stop_slurm
        log "starting slurmctld and slurmd"
        slurmctld
        slurmd
    fi

    local host deadline state
    host=$(hostname -s)
    deadline=$(( SECONDS + TIMEOUT ))
    while (( SECONDS < deadline )); do
        state=$(sinfo -h -n "$host" -o '%T' 2>/dev/null | head -n1 || true)
        case $state in
            idle|mixed|allocated|completing) log "node $host is $state"; sinfo; return 0 ;;
            drain*|down*|fail*)
                log "node $host is $state; resuming"
                scontrol update nodename="$host" state=resume || true ;;
        esac
        sleep 0.3
    done
    log "node did not become idle in ${TIMEOUT}s; last state '${state:-?}'"
    tail -n 20 "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" >&2 || true
    exit 1
}

main "$@"
