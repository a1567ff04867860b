#!/usr/bin/env bash
# Integration test (release build, run by `make test`): workers placed by a real Slurm, with the
# README's recipe exactly as written (section "Workers on other machines", Slurm): inside an
# allocation, a hosts file names the allocation's nodes, and each node runs one job step for the
# whole run: the worker agent that forks that node's workers:
#   salloc -N 2 --ntasks-per-node=1
#   scontrol show hostnames "$SLURM_JOB_NODELIST" | sed 's/$/ 1/' >hosts
#   plugin-host run --hosts hosts --launcher 'srun --nodes=1 --ntasks=1 --overlap -w {host} --quiet -u PLUGIN_WORKER' ...
#
# The cluster is Debian's slurm-wlm and munge (make test-deps installs them), started here as
# root without systemd: a private munged (own key and socket), slurmctld, and two nodes, each a
# slurmd in a network namespace of its own joined to this one by a veth pair (the workers of a
# node run in its namespace). Ports, slurm.conf, state, spool directories and logs are private
# to the run (SLURM_CONF names the file for the client commands), so a Slurm the machine may
# already run is not touched. At the end every daemon is stopped, every process of this cluster
# (found by the SLURM_CONF in its environment) is gone, and the namespaces and the directory are
# removed.
#
# Checks, each in its own allocation of one task per node: 1,000 one-shot chaos tasks (a fresh
# worker each, forked by the node's agent), 2,000 persistent round trips, ProofCheck on iset.mm
# one-shot and persistent with the exact counts, an agent's step cancelled mid-run (scancel
# JOB.STEP, found with squeue -s) and an agent's srun killed with SIGKILL mid-run: every task ends
# exactly once, done, exit 0, the worker's death is seen and the task it held retried; exactly one
# job step per node for a whole run (two after a lost agent; steps per node from the slurmd
# logs); no job, step or worker outlives its run. Prints the time of each run.
#
# Without root, network namespaces or the packages the test prints why and skips, unless
# PLUGIN_HOST_REQUIRE_SLURM=1 or CI=true, where a skip is a failure.
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
fail() {
  echo "slurm: FAIL: $*" >&2
  [ -z "${run:-}" ] || tail -n 5 "$run"/log/*.log >&2 2>/dev/null || true
  exit 1
}

[ "$(id -u)" = 0 ] || skip "needs root to run slurmd and make network namespaces (running as uid $(id -u))"
for tool in munged munge unmunge slurmctld slurmd salloc srun sinfo squeue scancel scontrol ip nsenter python3; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (make test-deps installs slurm-wlm, munge, iproute2 and python3)"
done
iset=$(realpath -m "$repo/../shared/data/metamath/iset.mm")
[ -r "$iset" ] || fail "$iset is missing (../shared must sit beside the package)"

tag=$$
run=$(mktemp -d /tmp/ph-slurm.XXXXXX)
chmod 755 "$run"
export SLURM_CONF="$run/slurm.conf"
# Every process of this cluster carries this in its environment: the daemons, the job steps'
# slurmstepd, srun, and the workers (srun exports the caller's environment to its tasks).
marker="SLURM_CONF=$SLURM_CONF"
nodes=(ph-node-1 ph-node-2)

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
# SIGKILL after 10 s), kills whatever of the cluster is left, removes the namespaces (and so
# their veth pairs) and the directory.
stop_cluster() {
  set +e
  [ -f "$run/slurmctld.pid" ] && scancel --quiet --user=root 2>/dev/null
  local file pid _
  for file in "$run"/slurmd-*.pid "$run/slurmctld.pid" "$run/munge/munged.pid"; do
    [ -f "$file" ] || continue
    pid=$(cat "$file")
    kill "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  for pid in $(cluster_pids); do kill -9 "$pid" 2>/dev/null; done
  for i in 1 2; do ip netns del "ph-slurm$i-$tag" 2>/dev/null; done
  rm -rf "$run"
}
trap stop_cluster EXIT

ip netns add "ph-slurm-probe-$tag" 2>/dev/null || skip "ip netns add failed: no CAP_SYS_ADMIN here"
ip netns del "ph-slurm-probe-$tag"

# A free 10.214.N.0/24 prefix (another run of this test may hold one): node i is 10.214.N.(4i+2)
# in namespace ph-slurmI-TAG, and this side of its veth pair 10.214.N.(4i+1), a /30 each.
net=
for n in $(seq 1 250); do
  ip -4 -o addr show | grep -qF " 10.214.$n." || { net=10.214.$n; break; }
done
[ -n "$net" ] || fail "no free 10.214.N.0/24 prefix"
for i in 1 2; do
  ns="ph-slurm$i-$tag"
  ip netns add "$ns"
  ip link add "vs$i-$tag" type veth peer name eth0 netns "$ns"
  ip addr add "$net.$((4 * i + 1))/30" dev "vs$i-$tag"
  ip link set "vs$i-$tag" up
  ip -n "$ns" addr add "$net.$((4 * i + 2))/30" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  ip -n "$ns" route add default via "$net.$((4 * i + 1))"
done

# Two free TCP ports, for slurmctld (here, on all addresses) and slurmd (in each namespace).
read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("0.0.0.0", 0))
print(*[s.getsockname()[1] for s in socks])')

# munged as root (--force) with its own key, socket, pid, seed and log; Slurm finds the socket
# through AuthInfo.
mkdir -m 755 "$run/munge" "$run/spool" "$run/spool/${nodes[0]}" "$run/spool/${nodes[1]}"
mkdir -m 700 "$run/state" "$run/log" "$run/blobs"
head -c 1024 /dev/urandom >"$run/munge/key"
chmod 400 "$run/munge/key"
munged --force --socket="$run/munge/socket" --key-file="$run/munge/key" --pid-file="$run/munge/munged.pid" \
  --seed-file="$run/munge/seed" --log-file="$run/log/munged.log" || fail "munged did not start"
munge --socket="$run/munge/socket" -n | unmunge --socket="$run/munge/socket" >/dev/null || fail "munge does not work"

# The controller listens here, reached at this side of node 1's veth pair (an address of this
# namespace, routed to from both nodes). Memory is tracked (CR_Core_Memory, as on most
# clusters): a step that asks for none gets all of the job's memory on its node, and --overlap
# lets such steps share it.
cpus=$(nproc)
cat >"$SLURM_CONF" <<EOF
ClusterName=ph$tag
SlurmctldHost=$(hostname -s)($net.5)
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
SlurmdPidFile=$run/slurmd-%n.pid
SlurmdSpoolDir=$run/spool/%n
StateSaveLocation=$run/state
SlurmctldLogFile=$run/log/slurmctld.log
SlurmdLogFile=$run/log/slurmd-%n.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=${nodes[0]} NodeHostname=$(hostname -s) NodeAddr=$net.6 CPUs=$cpus RealMemory=$((cpus * 512)) State=UNKNOWN
NodeName=${nodes[1]} NodeHostname=$(hostname -s) NodeAddr=$net.10 CPUs=$cpus RealMemory=$((cpus * 512)) State=UNKNOWN
PartitionName=ph Nodes=${nodes[0]},${nodes[1]} Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
# nsenter enters the node's network namespace only (ip netns exec would also remount /sys,
# hiding the cgroup file system slurmd looks at).
for i in 1 2; do
  nsenter --net="/run/netns/ph-slurm$i-$tag" slurmd -f "$SLURM_CONF" -N "${nodes[$((i - 1))]}" \
    || fail "slurmd of ${nodes[$((i - 1))]} did not start"
done
states=
for _ in $(seq 300); do
  states=$(sinfo -h -N -o '%N %T' 2>/dev/null | sort | tr '\n' ' ' || true)
  [ "$states" = "${nodes[0]} idle ${nodes[1]} idle " ] && break
  sleep 0.1
done
[ "$states" = "${nodes[0]} idle ${nodes[1]} idle " ] || fail "nodes not idle after 30 s: ${states:-no answer}"
echo "slurm: ok: two-node cluster up ($(slurmctld -V), $cpus CPUs per node, nodes in network namespaces)"

# The README's recipe, exactly. The workers' blob cache is private to the run.
q() { printf '%q' "$1"; }
launcher="srun --nodes=1 --ntasks=1 --overlap -w {host} --quiet -u $(q "$bin/plugin-worker")"
export PLUGIN_HOST_BLOB_CACHE="$run/blobs"
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$@"; }
rate() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.1f}')" "$@"; }

# Checks an events file ($1): every queued task ended exactly once, all done; exactly $2 workers
# (0 or 1) died unexpectedly (their end's reason starts with their name, as for a worker whose
# process ended without being asked to), and a task retried was lost with such a worker.
# Prints the task count, the number of workers that ran a task, the slots they ran in, the
# workers started in slot 0 and in slot 1 ("N0,N1"), the number of tasks retried, and the
# unexpected death's reason ("-" for none).
check_events() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
queued, ended, workers, retried, started, died = set(), {}, set(), [], [0, 0], []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "task-queued": queued.add(e["task"])
    elif e["event"] == "task-ended": ended.setdefault(e["task"], []).append(e["outcome"])
    elif e["event"] == "task-started": workers.add(e["worker"])
    elif e["event"] == "task-retried": retried.append(e["reason"])
    elif e["event"] == "worker-started": started[int(e["worker"].split(":")[1])] += 1
    elif e["event"] == "worker-ended" and (e["worker"] + " (pid ") in e["reason"]: died.append(e["reason"])
twice = [t for t, o in ended.items() if len(o) != 1]
assert not twice, f"tasks ended more than once: {twice[:5]}"
assert queued == set(ended), f"tasks never ended: {sorted(queued - set(ended))[:5]}"
bad = [t for t, o in ended.items() if o != ["done"]]
assert not bad, f"tasks not done: {bad[:5]}"
assert len(died) == int(sys.argv[2]), f"expected {sys.argv[2]} unexpected worker deaths, saw {died}"
assert all(r in died for r in retried) and len(retried) <= len(died), f"retries {retried} for the deaths {died}"
slots = sorted({w.split(":")[1] for w in workers})
print(len(queued), len(workers), ",".join(slots), f"{started[0]},{started[1]}", len(retried), died[0] if died else "-")
EOF
}

# The README's recipe in a fresh allocation of one task on each of the two nodes: the hosts file
# from the allocation's node list, then plugin-host with the launcher. $1 names the run's files,
# the rest are plugin-host run's arguments.
recipe() {
  local name=$1
  shift
  salloc --quiet -N 2 --ntasks-per-node=1 bash -c '
    hosts=$1 bin=$2 launcher=$3 events=$4
    shift 4
    scontrol show hostnames "$SLURM_JOB_NODELIST" | sed "s/\$/ 1/" >"$hosts"
    exec "$bin/plugin-host" run --hosts "$hosts" --launcher "$launcher" --no-progress --events "$events" "$@"
  ' recipe "$run/$name.hosts" "$bin" "$launcher" "$run/$name.jsonl" "$@" >"$run/$name.out" 2>"$run/$name.err"
}

# Job steps launched so far on each node, "N1,N2", from the slurmd logs.
launches() {
  local node
  for node in "${nodes[@]}"; do grep -c "launch task StepId=" "$run/log/slurmd-$node.log" || true; done | paste -sd,
}

# Where the workers ran: each node launched, since $2 (launches before the run), from $3 to $4 job
# steps (one agent for the whole run; another after a lost one), and workers started in both
# slots (field $1, "N0,N1", from the events), so each slot's agent ran on its hosts file line's
# node. A launcher that lets Slurm choose the node fails this.
check_placement() {
  local per_slot=$1 before=$2 least=$3 most=$4 after i placed steps
  after=$(launches)
  placed="$((${after%,*} - ${before%,*})),$((${after#*,} - ${before#*,}))"
  for i in 0 1; do
    steps=$(cut -d, -f$((i + 1)) <<<"$placed")
    [ "$steps" -ge "$least" ] && [ "$steps" -le "$most" ] && [ "$(cut -d, -f$((i + 1)) <<<"$per_slot")" -ge 1 ] \
      || fail "workers started per slot: $per_slot; job steps per node (${nodes[*]}): $placed, expected $least to $most each"
  done
}

# Runs the recipe; sets $code, $seconds and $before (launches before the run).
timed_recipe() {
  local start
  before=$(launches)
  start=$(now)
  set +e
  recipe "$@"
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

# 1. One-shot: a fresh worker per task, all forked by one agent step per node.
timed_recipe oneshot --policy one-shot chaos --repeat 1000 echo:a
[ "$code" = 0 ] || { cat "$run/oneshot.err" >&2; fail "1000 one-shot tasks through srun: exit $code"; }
read -r count workers slots per_slot _ < <(check_events "$run/oneshot.jsonl" 0) || fail "events of the one-shot run: see above"
[ "$count" = 1000 ] && [ "$workers" = 1000 ] || fail "expected 1000 tasks on 1000 fresh workers; got $count on $workers"
[ "$(cat "$run/oneshot.hosts")" = "$(printf '%s 1\n' "${nodes[@]}")" ] || fail "hosts file: $(cat "$run/oneshot.hosts")"
check_placement "$per_slot" "$before" 1 1
check_nothing_left "one-shot"
echo "slurm: ok: 1000 one-shot tasks, one job step per node, workers per node $per_slot: $seconds s (allocation included), $(rate 1000 "$seconds") jobs/s"

# 2. Persistent: a step per node for the whole run.
timed_recipe persistent --policy persistent chaos --repeat 2000 echo:a
[ "$code" = 0 ] || { cat "$run/persistent.err" >&2; fail "2000 persistent tasks through srun: exit $code"; }
read -r count workers slots per_slot _ < <(check_events "$run/persistent.jsonl" 0) || fail "events of the persistent run: see above"
[ "$count" = 2000 ] && [ "$workers" -le 2 ] || fail "expected 2000 tasks on at most 2 workers; got $count on $workers"
check_placement "$per_slot" "$before" 1 1
check_nothing_left "persistent"
echo "slurm: ok: 2000 persistent round trips, workers per node $per_slot: $seconds s (allocation included), $(rate 2000 "$seconds") round trips/s"

# 3. ProofCheck on iset.mm, one-shot and persistent: the image travels as a blob into the run's
#    cache; no theorem is checked in the master.
for mode in one-shot persistent; do
  flag=()
  [ $mode = persistent ] && flag=(--persistent)
  timed_recipe "pc-$mode" proofcheck "${flag[@]}" "$iset"
  if [ "$code" != 0 ] || ! grep -qF "proofcheck: $iset: 8573 proofs: 8573 verified, 0 failed, 0 incomplete" "$run/pc-$mode.out" \
     || grep -q "in the master" "$run/pc-$mode.out" "$run/pc-$mode.err"; then
    tail -n 5 "$run/pc-$mode.out" "$run/pc-$mode.err" >&2
    fail "proofcheck iset.mm $mode through srun: exit $code"
  fi
  read -r count _ slots per_slot _ < <(check_events "$run/pc-$mode.jsonl" 0) || fail "events of proofcheck $mode: see above"
  check_placement "$per_slot" "$before" 1 1
  check_nothing_left "proofcheck $mode"
  echo "slurm: ok: proofcheck iset.mm $mode: $(grep -o '8573 proofs: [^,]*' "$run/pc-$mode.out"), $count batches, workers per node $per_slot, $seconds s (allocation included)"
done

# 4. A node's agent lost mid-run, twice: its step cancelled by the scheduler (scancel JOB.STEP),
#    then its srun killed (SIGKILL). The master sees the node's worker die with it and retries
#    its task (on a new agent step, or the other node); every task ends once, done. (The worker is busy but for a round trip between its
#    200 ms tasks; were it caught idle, no task would be retried, and the checks allow that.)
lose_worker_mid_run() {
  local how=$1 master step salloc_pid host_pid srun_pid ended before _
  before=$(launches)
  recipe "lost-$how" --retries 2 --policy persistent chaos --repeat 40 sleep:200 &
  master=$!
  step=
  for _ in $(seq 600); do
    ended=$(grep -c '"event":"task-ended"' "$run/lost-$how.jsonl" 2>/dev/null || true)
    step=$(squeue -h -s -o %i | grep -E '^[0-9]+\.[0-9]+$' | head -n 1 || true)
    [ "${ended:-0}" -ge 4 ] && [ -n "$step" ] && break
    sleep 0.05
  done
  [ -n "$step" ] || fail "$how: no worker step seen"
  if [ "$how" = scancel ]; then
    scancel "$step"
  else
    salloc_pid=$(pgrep -P "$master" -x salloc || echo "$master")
    host_pid=$(pgrep -P "$salloc_pid" -x plugin-host) || fail "$how: no plugin-host under salloc"
    srun_pid=$(pgrep -P "$host_pid" -x srun | head -n 1)
    [ -n "$srun_pid" ] || fail "$how: no srun under plugin-host"
    kill -9 "$srun_pid"
  fi
  set +e
  wait "$master"
  code=$?
  set -e
  [ "$code" = 0 ] || { cat "$run/lost-$how.err" >&2; fail "$how: the run exited $code"; }
  read -r count _ slots per_slot retried death < <(check_events "$run/lost-$how.jsonl" 1) || fail "events of the $how run: see above"
  check_placement "$per_slot" "$before" 1 2
  [ "$count" = 40 ] && [ "$slots" = 0,1 ] || fail "$how: expected 40 tasks over slots 0,1 (both nodes), got $count over $slots"
  check_nothing_left "$how"
  echo "slurm: ok: $how of a worker mid-run (step $step): 40 tasks each ended once, done, $retried retried; the worker's end: $death"
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
