#!/usr/bin/env bash
# Integration test (release build, run by `make test`): workers placed by a real Slurm, with the
# README's recipe exactly as written (section "Workers on other machines", Slurm): inside an
# allocation, a hosts file names the allocation's nodes, and each node runs one job step for the
# whole run: the worker agent that forks that node's workers:
#   salloc -N 2 --ntasks-per-node=1
#   scontrol show hostnames "$SLURM_JOB_NODELIST" | sed 's/$/ 1/' >hosts
#   plugin-host run --hosts hosts --launcher 'srun --nodes=1 --ntasks=1 --overlap -w {host} --quiet -u PLUGIN_WORKER' ...
#
# The cluster is Debian's slurm-wlm and munge (make test-deps installs them), two slurmd nodes
# in network namespaces, started by Tests/Integration/slurm-cluster.sh. At the end every daemon
# is stopped, every process of this cluster (found by the SLURM_CONF in its environment) is
# gone, and the namespaces and the directory are removed.
#
# Checks, each in its own allocation of one task per node: 1,000 one-shot chaos tasks (a fresh
# worker each, forked by the node's agent, whose frames travel over its connection back to the
# master, not srun's relay), 2,000 persistent round trips, ProofCheck on iset.mm one-shot and
# persistent and on Debian's set.mm one-shot with the exact counts, an agent's step cancelled
# mid-run (scancel JOB.STEP, found with squeue -s) and an agent's srun killed with SIGKILL
# mid-run: every task ends exactly once, done, exit 0, the worker's death is seen and the task it
# held retried; exactly one job step per node for a whole run (two after a lost agent; steps per
# node from the slurmd logs); no job, step or worker outlives its run. Prints the time of each run.
# Then the drain recipe (Examples/slurm/drain-and-requeue.sbatch) as a batch job with a journal:
# USR1 to its batch shell (scancel --batch --signal=USR1, the path of --signal=B:USR1@N) drains
# plugin-host, the job requeues itself, and the requeued job resumes the journal to the output
# of an uninterrupted run, every task journaled once.
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

iset=$(realpath -m "$repo/../shared/data/metamath/iset.mm")
[ -r "$iset" ] || fail "$iset is missing (../shared must sit beside the package)"
setmm=/usr/share/metamath/databases/set.mm
[ -r "$setmm" ] || skip "$setmm is missing (make test-deps installs metamath-databases)"

# shellcheck source=slurm-cluster.sh
source "$here/slurm-cluster.sh"

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
! grep -F "launcher's relay" "$run/oneshot.err" >&2 || fail "an agent did not connect back to the master (above)"
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

# 3b. ProofCheck on Debian's set.mm, one-shot: 37,759 proofs in 7 batches, the image sent to each node.
timed_recipe pc-setmm proofcheck "$setmm"
if [ "$code" != 0 ] || ! grep -qF "proofcheck: $setmm: 37759 proofs: 37759 verified, 0 failed, 0 incomplete" "$run/pc-setmm.out"; then
  tail -n 5 "$run/pc-setmm.out" "$run/pc-setmm.err" >&2
  fail "proofcheck set.mm one-shot through srun: exit $code"
fi
read -r count _ slots per_slot _ < <(check_events "$run/pc-setmm.jsonl" 0) || fail "events of proofcheck set.mm: see above"
check_placement "$per_slot" "$before" 1 1
check_nothing_left "proofcheck set.mm"
echo "slurm: ok: proofcheck set.mm one-shot: 37759 proofs verified, $count batches, workers per node $per_slot, $seconds s (allocation included)"

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

# 5. The drain recipe as a real batch job: Examples/slurm/drain-and-requeue.sbatch on one node,
#    its workers through the README's srun launcher (2 slots on the job's node), a journal. Once
#    a few tasks are journaled, USR1 goes to the batch shell only (scancel --batch
#    --signal=USR1: the same delivery as the script's --signal=B:USR1@120, without a minute's
#    time limit to wait for): plugin-host drains (exit 138) and the script requeues the job.
#    Slurm holds a requeued job for about two minutes (its BeginTime): the test releases it at
#    once (scontrol update StartTime=now). The requeued job resumes the journal; its output is an
#    uninterrupted run's, and every task is journaled exactly once.
drain_test() {
  local dir="$run/drain" jid ends states _ tasks=(chaos --repeat 40 sleep:150)
  mkdir -p "$dir/bin"
  ln -s "$bin/plugin-host" "$dir/bin/plugin-host"
  printf '%s 2\n' "${nodes[0]}" >"$dir/hosts"
  "$bin/plugin-host" run --no-progress -j 2 "${tasks[@]}" >"$dir/reference.out" 2>/dev/null || fail "drain: the reference run failed"
  jid=$(PATH="$dir/bin:$PATH" JOURNAL="$dir/run.journal" sbatch --parsable -N 1 -w "${nodes[0]}" --chdir="$dir" \
    --output="$dir/job.out" --error="$dir/job.err" "$repo/Examples/slurm/drain-and-requeue.sbatch" \
    --no-progress --hosts "$dir/hosts" --launcher "$launcher" "${tasks[@]}") || fail "drain: sbatch failed"
  for _ in $(seq 300); do
    ends=$({ "$bin/plugin-host" journal "$dir/run.journal" 2>/dev/null || true; } | sed -nE '1s/.*: ([0-9]+) task ends.*/\1/p')
    [ "${ends:-0}" -ge 4 ] && break
    sleep 0.1
  done
  [ "${ends:-0}" -ge 4 ] || fail "drain: no task journaled after 30 s: $(cat "$dir/job.err")"
  scancel --batch --signal=USR1 "$jid" || fail "drain: scancel --batch --signal=USR1 failed"
  # The drained run ends and the job requeues itself: pending again (BeginTime), restarted once.
  for _ in $(seq 300); do
    states=$({ scontrol show job "$jid" 2>/dev/null || true; } | grep -oE 'JobState=[A-Z]+|Restarts=[0-9]+' | paste -sd' ' || true)
    [ "$states" = "JobState=PENDING Restarts=1" ] && break
    sleep 0.1
  done
  [ "$states" = "JobState=PENDING Restarts=1" ] || fail "drain: the job did not requeue itself: $states; $(cat "$dir/job.err")"
  grep -q "(drained)" "$dir/job.err" || fail "drain: no drained summary: $(cat "$dir/job.err")"
  local first
  first=$(grep -c '' "$dir/job.out")
  scontrol update JobId="$jid" StartTime=now
  for _ in $(seq 600); do
    states=$({ scontrol show job "$jid" 2>/dev/null || true; } | grep -oE 'JobState=[A-Z]+|ExitCode=[0-9:]+' | sed -n 1,2p | paste -sd' ' || true)
    [ "$states" = "JobState=COMPLETED ExitCode=0:0" ] && break
    case $states in JobState=FAILED* | JobState=CANCELLED*) break ;; esac
    sleep 0.1
  done
  [ "$states" = "JobState=COMPLETED ExitCode=0:0" ] || fail "drain: the requeued job did not complete: $states; $(tail -n 5 "$dir/job.err")"
  # The drained run's summary, then the resumed run's: that one is the uninterrupted run's output.
  tail -n +"$((first + 1))" "$dir/job.out" | cmp -s - "$dir/reference.out" \
    || fail "drain: the resumed output differs from an uninterrupted run's: $(cat "$dir/job.out")"
  local summary
  summary=$("$bin/plugin-host" journal "$dir/run.journal" | sed -n 1p)
  [[ $summary == *": 40 task ends (40 done, 0 failed, 0 expired); 40 tasks, 0 ended more than once" ]] \
    || fail "drain: journal: $summary"
  check_nothing_left "drain"
  echo "slurm: ok: drain recipe as a batch job: USR1 to the batch shell drained after $ends journaled task ends, the job requeued itself, the requeued job resumed to an uninterrupted run's output, 40 tasks each journaled once"
}
drain_test

# 6. Stopping the cluster leaves nothing behind.
trap - EXIT
stop_cluster
left=$(cluster_pids)
[ -z "$left" ] || { ps -o pid,args -p "$left" >&2; fail "processes of the cluster left behind"; }
[ ! -e "$run" ] || fail "$run left behind"
echo "slurm: ok: cluster stopped, no process or file left"
