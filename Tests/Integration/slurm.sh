#!/usr/bin/env bash
# Integration test (release build, run by `make test`): workers placed by a real Slurm, with the
# README's recipe exactly as written (section "Workers on other machines", Slurm): inside an
# allocation, each worker is a one-task job step started by
#   srun --ntasks=1 --nodes=1 --exclusive --quiet -u PLUGIN_WORKER
#
# The cluster is Debian's slurm-wlm and munge (make test-deps installs them), one node, started
# here as root without systemd: a private munged (own key and socket), slurmctld and slurmd on
# free loopback ports, with a slurm.conf, state, spool and logs in a private directory
# (SLURM_CONF names it for the client commands), so a Slurm the machine may already run is not
# touched. At the end every daemon is stopped and every process of this cluster (found by the
# SLURM_CONF in its environment) is gone; the directory is removed.
#
# Checks, each through salloc and srun: 20 one-shot chaos tasks (a job step per task), 2,000
# persistent round trips, ProofCheck on iset.mm one-shot and persistent with the exact counts,
# a worker's step cancelled mid-run (scancel JOB.STEP, found with squeue -s) and a worker's srun
# killed with SIGKILL mid-run: every task ends exactly once, done, exit 0, the loss retried.
# Prints the time of each run (jobs/s, round trips/s).
#
# Without root or the packages the test prints why and skips, unless PLUGIN_HOST_REQUIRE_SLURM=1
# or CI=true, where a skip is a failure.
#
# usage: Tests/Integration/slurm.sh BIN_DIR
set -euo pipefail
bin=$(realpath "${1:?usage: slurm.sh BIN_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

skip() {
  if [ "${PLUGIN_HOST_REQUIRE_SLURM:-0}" = 1 ] || [ "${CI:-}" = true ]; then
    echo "slurm: FAIL: cannot run: $*" >&2
    exit 1
  fi
  echo "slurm: SKIP: $*"
  exit 0
}
fail() { echo "slurm: FAIL: $*" >&2; [ -z "${run:-}" ] || tail -n 5 "$run"/log/*.log >&2 2>/dev/null || true; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root to run slurmd (running as uid $(id -u))"
for tool in munged munge unmunge slurmctld slurmd salloc srun sinfo squeue scancel python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (make test-deps installs slurm-wlm, munge and python3)"
done
iset=$(realpath -m "$repo/../shared/data/metamath/iset.mm")
[ -r "$iset" ] || fail "$iset is missing (../shared must sit beside the package)"

run=$(mktemp -d "${TMPDIR:-/tmp}/ph-slurm.XXXXXX")
chmod 755 "$run"
export SLURM_CONF="$run/slurm.conf"
# Every process of this cluster carries this in its environment: the daemons, the job steps'
# slurmstepd, srun, and the workers (srun exports the caller's environment to its tasks).
marker="SLURM_CONF=$SLURM_CONF"

# Pids of the processes whose environment holds $marker, other than this shell.
cluster_pids() {
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" != $$ ] && [ "$p" != "$BASHPID" ] || continue
    grep -qzxF "$marker" "/proc/$p/environ" 2>/dev/null && echo "$p"
  done
  return 0
}

# Stops the cluster: cancels every job, stops the daemons by their pid files (SIGTERM, then
# SIGKILL after 10 s), then kills whatever of the cluster is left and removes the directory.
stop_cluster() {
  set +e
  if [ -f "$run/slurmctld.pid" ]; then scancel --quiet --user=root 2>/dev/null; fi
  local name pid _
  for name in slurmd slurmctld munge/munged; do
    [ -f "$run/$name.pid" ] || continue
    pid=$(cat "$run/$name.pid")
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  for pid in $(cluster_pids); do kill -9 "$pid" 2>/dev/null; done
  rm -rf "$run"
}
trap stop_cluster EXIT

# Two free TCP ports on the loopback, for slurmctld and slurmd.
read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')

# munged as root (--force) with its own key, socket, pid, seed and log; Slurm finds the socket
# through AuthInfo.
mkdir -m 755 "$run/munge"
mkdir -m 700 "$run/state" "$run/spool" "$run/log" "$run/blobs"
head -c 1024 /dev/urandom >"$run/munge/key"
chmod 400 "$run/munge/key"
munged --force --socket="$run/munge/socket" --key-file="$run/munge/key" --pid-file="$run/munge/munged.pid" \
  --seed-file="$run/munge/seed" --log-file="$run/log/munged.log" || fail "munged did not start"
munge --socket="$run/munge/socket" -n | unmunge --socket="$run/munge/socket" >/dev/null || fail "munge does not work"

node=ph-node-1
cpus=$(nproc)
cat >"$SLURM_CONF" <<EOF
ClusterName=ph$$
SlurmctldHost=$(hostname)(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$run/munge/socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
ReturnToService=2
SlurmUser=root
SlurmdUser=root
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmdSpoolDir=$run/spool
StateSaveLocation=$run/state
SlurmctldLogFile=$run/log/slurmctld.log
SlurmdLogFile=$run/log/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=$node NodeHostname=$(hostname) NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$((cpus * 512)) State=UNKNOWN
PartitionName=ph Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
slurmd -f "$SLURM_CONF" -N "$node" || fail "slurmd did not start"
state=
for _ in $(seq 300); do
  state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.1
done
[ "$state" = idle ] || fail "node $node is not idle after 30 s (state: ${state:-none})"
echo "slurm: ok: one-node cluster up ($(slurmctld -V), $cpus CPUs, ports $ctld_port/$slurmd_port)"

# The README's recipe. The worker's blob cache is private to the run.
q() { printf '%q' "$1"; }
launcher="srun --ntasks=1 --nodes=1 --exclusive --quiet -u $(q "$bin/plugin-worker")"
export PLUGIN_HOST_BLOB_CACHE="$run/blobs"
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$@"; }
rate() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}')" "$@"; }

# Checks an events file: every queued task ended exactly once, all done; prints the task count,
# the retries' reasons and the workers' names.
check_events() {
  python3 - "$1" <<'EOF'
import json, sys
queued, ended, workers, retried = set(), {}, set(), []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "task-queued": queued.add(e["task"])
    elif e["event"] == "task-ended": ended.setdefault(e["task"], []).append(e["outcome"])
    elif e["event"] == "task-started": workers.add(e["worker"])
    elif e["event"] == "task-retried": retried.append(e["reason"])
twice = [t for t, o in ended.items() if len(o) != 1]
assert not twice, f"tasks ended more than once: {twice[:5]}"
assert queued == set(ended), f"tasks never ended: {sorted(queued - set(ended))[:5]}"
bad = [t for t, o in ended.items() if o != ["done"]]
assert not bad, f"tasks not done: {bad[:5]}"
print(len(queued), len(workers), "|".join(retried) or "-")
EOF
}

# Runs plugin-host inside a fresh two-CPU allocation: salloc -N1 -n2 plugin-host run -j 2 ...;
# $1 names the run's files. Sets $code and $seconds.
in_allocation() {
  local name=$1 start
  shift
  start=$(now)
  set +e
  salloc --quiet -N1 -n2 "$bin/plugin-host" run -j 2 --no-progress --launcher "$launcher" \
    --events "$run/$name.jsonl" "$@" >"$run/$name.out" 2>"$run/$name.err"
  code=$?
  set -e
  seconds=$(elapsed "$start" "$(now)")
}

# No job, step or worker may outlive a run. A job ends asynchronously after salloc returns
# (state COMPLETING while slurmstepd kills what is left): wait for that, at most 30 s.
check_nothing_left() {
  local jobs= pid _
  for _ in $(seq 300); do
    jobs=$(squeue -h -o '%i %T')
    [ -z "$jobs" ] && break
    sleep 0.1
  done
  [ -z "$jobs" ] || fail "$1: jobs left in the queue after 30 s: $jobs"
  for pid in $(cluster_pids); do
    case $(cat "/proc/$pid/comm" 2>/dev/null) in
      plugin-worker | plugin-host | srun | salloc | slurmstepd) fail "$1: left behind: $(tr '\0' ' ' <"/proc/$pid/cmdline")" ;;
    esac
  done
}

# 1. One-shot: a job step per task.
in_allocation oneshot chaos --repeat 20 echo:a
[ "$code" = 0 ] || { cat "$run/oneshot.err" >&2; fail "20 one-shot tasks through srun: exit $code"; }
read -r count workers _ < <(check_events "$run/oneshot.jsonl") || fail "events of the one-shot run: see above"
[ "$count" = 20 ] && [ "$workers" = 20 ] || fail "expected 20 tasks on 20 fresh workers; got $count on $workers"
check_nothing_left "one-shot"
echo "slurm: ok: 20 one-shot tasks, a job step each: $seconds s, $(rate 20 "$seconds") jobs/s"

# 2. Persistent: two steps for the whole run.
in_allocation persistent --policy persistent chaos --repeat 2000 echo:a
[ "$code" = 0 ] || { cat "$run/persistent.err" >&2; fail "2000 persistent tasks through srun: exit $code"; }
read -r count workers _ < <(check_events "$run/persistent.jsonl") || fail "events of the persistent run: see above"
[ "$count" = 2000 ] && [ "$workers" -le 2 ] || fail "expected 2000 tasks on at most 2 workers; got $count on $workers"
check_nothing_left "persistent"
echo "slurm: ok: 2000 persistent round trips on 2 steps: $seconds s (allocation included), $(rate 2000 "$seconds") round trips/s"

# 3. ProofCheck on iset.mm, one-shot and persistent: the image travels as a blob into the run's
#    cache; no theorem is checked in the master.
for mode in one-shot persistent; do
  flag=()
  [ $mode = persistent ] && flag=(--persistent)
  in_allocation "pc-$mode" proofcheck "${flag[@]}" "$iset"
  if [ "$code" != 0 ] || ! grep -qF "proofcheck: $iset: 8573 proofs: 8573 verified, 0 failed, 0 incomplete" "$run/pc-$mode.out" \
     || grep -q "in the master" "$run/pc-$mode.out" "$run/pc-$mode.err"; then
    tail -n 5 "$run/pc-$mode.out" "$run/pc-$mode.err" >&2
    fail "proofcheck iset.mm $mode through srun: exit $code"
  fi
  read -r count _ _ < <(check_events "$run/pc-$mode.jsonl") || fail "events of proofcheck $mode: see above"
  check_nothing_left "proofcheck $mode"
  echo "slurm: ok: proofcheck iset.mm $mode: $(grep -o '8573 proofs: [^,]*' "$run/pc-$mode.out"), $count batches, $seconds s (allocation included)"
done

# 4. A worker lost mid-run, twice: its step cancelled by the scheduler (scancel JOB.STEP), then
#    its srun killed (SIGKILL). The master sees the worker die, retries its task on a new step;
#    every task ends once, done.
lose_worker_mid_run() {
  local how=$1 events="$run/lost-$1.jsonl" master step host_pid srun_pid ended _
  salloc --quiet -N1 -n2 "$bin/plugin-host" run -j 2 --no-progress --launcher "$launcher" --events "$events" \
    --retries 2 --policy persistent chaos --repeat 40 sleep:200 >"$run/lost-$how.out" 2>"$run/lost-$how.err" &
  master=$!
  step=
  for _ in $(seq 600); do
    ended=$(grep -c '"event":"task-ended"' "$events" 2>/dev/null || true)
    step=$(squeue -h -s -o %i | grep -E '^[0-9]+\.[0-9]+$' | head -n 1 || true)
    [ "${ended:-0}" -ge 4 ] && [ -n "$step" ] && break
    sleep 0.05
  done
  [ -n "$step" ] || fail "$how: no worker step seen"
  if [ "$how" = scancel ]; then
    scancel "$step"
  else
    host_pid=$(pgrep -P "$master" -x plugin-host) || fail "$how: plugin-host not found under salloc"
    srun_pid=$(pgrep -P "$host_pid" -x srun | head -n 1)
    [ -n "$srun_pid" ] || fail "$how: no srun found under plugin-host"
    kill -9 "$srun_pid"
  fi
  set +e
  wait "$master"
  code=$?
  set -e
  [ "$code" = 0 ] || { cat "$run/lost-$how.err" >&2; fail "$how: the run exited $code"; }
  read -r count _ reasons < <(check_events "$events") || fail "events of the $how run: see above"
  [ "$count" = 40 ] || fail "$how: expected 40 tasks, got $count"
  [ "$reasons" != - ] || fail "$how: no task was retried (the loss went unnoticed)"
  check_nothing_left "$how"
  echo "slurm: ok: $how of a worker mid-run (step $step): 40 tasks each ended once, done; retried: $reasons"
}
lose_worker_mid_run scancel
lose_worker_mid_run kill-9-srun

# 5. Stopping the cluster leaves nothing behind.
trap - EXIT
stop_cluster
left=$(cluster_pids)
[ -z "$left" ] || { ps -o pid,args -p "$left" >&2; fail "processes of the cluster left behind"; }
[ ! -e "$run" ] || fail "$run left behind"
echo "slurm: ok: cluster stopped, no process or file left"
