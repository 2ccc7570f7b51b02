#!/usr/bin/env bash
# A one-node Slurm cluster on loopback for tests and for trying Examples/cluster/slurm by hand
# (Debian 12: slurmctld slurmd slurm-client munge, which `scripts/setup --venv` installs). Run as root.
#
#   slurm_cluster.sh start DIR   writes DIR/slurm.conf, starts munged, slurmctld and slurmd with their state,
#                                spool, logs and PID files inside DIR, waits until the node is idle, and
#                                prints `export SLURM_CONF=DIR/slurm.conf`: eval it before using sbatch & co.
#   slurm_cluster.sh stop DIR    cancels the cluster's jobs and stops its daemons by PID.
#
# Nothing outside DIR is written: not /etc/slurm/slurm.conf (every Slurm command and daemon here reads
# SLURM_CONF), not the system's munge socket (our munged has its own socket in DIR, named in slurm.conf's
# AuthInfo). Ports are free ones picked at start, so a real Slurm on the machine is not disturbed.
# Without systemd and cgroups: proctrack/linuxproc with task/none (cgroup plugins fail in containers).
set -euo pipefail

# Unblock every signal, for us and so for the daemons: a caller's blocked signals are inherited (a
# Swift test spawns us from a Dispatch thread, which blocks nearly all), and daemons that block SIGTERM
# cannot be stopped but by SIGKILL. Bash cannot unblock signals; perl-base (essential in Debian) can.
if [ -z "${SLURM_CLUSTER_SIGNALS_UNBLOCKED:-}" ]; then
  export SLURM_CLUSTER_SIGNALS_UNBLOCKED=1
  exec perl -MPOSIX -e 'sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die "sigprocmask: $!"; exec @ARGV or die "$!"' \
    bash "$0" "$@"
fi
unset SLURM_CLUSTER_SIGNALS_UNBLOCKED

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
action="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
conf="$dir/slurm.conf"
export SLURM_CONF="$conf"

log() { echo "slurm_cluster: $*" >&2; }

# The PID in a PID file, if that process still runs. A zombie has ended: when the daemon's parent is
# gone, an init that does not reap orphans (as in some containers and VMs) leaves it.
running_pid() {
  local pid state
  [ -s "$1" ] || return 1
  pid="$(cat "$1")"
  kill -0 "$pid" 2>/dev/null || return 1
  state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  [ "$state" != "Z" ] || return 1
  echo "$pid"
}

# Stops the process of a PID file: TERM, then KILL after 10 s.
stop_pid_file() {
  local pid i
  pid="$(running_pid "$1")" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 200); do
    running_pid "$1" >/dev/null || return 0
    sleep 0.05
  done
  log "$(basename "$1" .pid) ($pid) did not stop on TERM; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# A TCP port nothing listens on (IPv4 or IPv6), from a random start.
free_port() {
  local port hex
  port=$((20000 + RANDOM % 30000))
  while :; do
    hex="$(printf '%04X' "$port")"
    # One awk over both tables (a pipe into `grep -q` breaks awk's output when grep stops early,
    # and with pipefail a port in use then looked free).
    if ! awk -v h=":$hex" 'toupper($2) ~ h "$" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null \
      && [ "$port" != "${1:-}" ]; then
      echo "$port"
      return
    fi
    port=$((port + 1))
  done
}

stop() {
  if [ -f "$dir/slurmctld.pid" ] && running_pid "$dir/slurmctld.pid" >/dev/null; then
    # Jobs first, so that no slurmstepd outlives the daemons.
    jobs="$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ')" || jobs=""
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for _ in $(seq 50); do
        [ -z "$(squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  stop_pid_file "$dir/slurmd.pid"
  stop_pid_file "$dir/slurmctld.pid"
  stop_pid_file "$dir/munge/munged.pid"
}

start() {
  [ "$(id -u)" -eq 0 ] || { log "must run as root (slurmd starts jobs as their users)"; exit 1; }
  for tool in munged slurmctld slurmd sinfo sbatch; do
    command -v "$tool" >/dev/null \
      || { log "$tool not found: run scripts/setup --venv (Debian: slurmctld slurmd slurm-client munge)"; exit 1; }
  done
  if running_pid "$dir/slurmctld.pid" >/dev/null; then log "already running in $dir"; exit 1; fi
  # The daemons must not inherit any descriptor of our caller but 0-2 (which they get as /dev/null):
  # Foundation's Process, for one, learns that its child ended from a socket the child inherits, and
  # would wait for the daemons to end too. (255 is bash's own, the script.)
  for fd in /proc/$$/fd/*; do
    fd="${fd##*/}"
    if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"

  # munge, as the munge user (run as root, munged refuses: "Logfile is insecure"), with its own socket.
  # Its directory must be the munge user's and searchable by all; every parent root's or sticky (/tmp).
  # DIR itself becomes root's (under sudo, the caller made it): munged refuses a socket below a
  # directory another user can write.
  chown root:root "$dir"
  chmod 0755 "$dir"
  chown munge:munge "$dir/munge"
  chmod 0755 "$dir/munge"
  key=/etc/munge/munge.key
  if [ ! -s "$key" ]; then
    key="$dir/munge/munge.key"
    [ -s "$key" ] || runuser -u munge -- mungekey --create --keyfile="$key"
  fi
  socket="$dir/munge/munge.socket"
  # The daemons get no stdin, stdout or stderr of ours: a caller that reads our output to its end
  # would otherwise wait for them. They log to files.
  runuser -u munge -- munged --socket="$socket" --key-file="$key" --pid-file="$dir/munge/munged.pid" \
    --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" </dev/null >/dev/null 2>&1 \
    || { log "munged did not start: see $dir/munge/munged.log"; exit 1; }
  munge -n -S "$socket" | unmunge -S "$socket" >/dev/null \
    || { log "munge does not work: see $dir/munge/munged.log"; exit 1; }

  # The node as slurmd sees it (a node that registers fewer CPUs or less memory than declared is set DOWN).
  read -r cpus memory < <(slurmd -C | awk '/^NodeName/ {
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      print v["CPUs"], v["RealMemory"] }')
  ctld_port="$(free_port)"
  slurmd_port="$(free_port "$ctld_port")"
  cat >"$conf" <<EOF
# Written by $0 for a one-node test cluster; every path is inside $dir.
ClusterName=ci
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
# Schedule as soon as a job ends (the default waits up to 3 s between scheduling passes).
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
PlugStackConfig=$dir/plugstack.conf
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  : >"$dir/plugstack.conf"

  slurmctld -i </dev/null >/dev/null 2>&1 || { log "slurmctld did not start: see $dir/log/slurmctld.log"; exit 1; }
  slurmd -N localhost </dev/null >/dev/null 2>&1 || { log "slurmd did not start: see $dir/log/slurmd.log"; stop; exit 1; }
  for _ in $(seq 300); do
    state="$(sinfo -h -o %t 2>/dev/null || true)"
    if [ "$state" = "idle" ]; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.1
  done
  log "the node is not idle after 30 s (sinfo: '${state:-}'); see $dir/log"
  stop
  exit 1
}

case "$action" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
