#!/usr/bin/env bash
# make bench: PluginHost's trivial-task throughput and one-shot latency, printed next to
# references measured in the same invocation (a C pipe ping-pong and Python's pools), since
# these machines are noisy. Nothing here asserts a threshold.
#
# usage: Benchmarks/run.sh RELEASE_BIN_DIR
set -euo pipefail
bin=${1:?usage: Benchmarks/run.sh RELEASE_BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT_DIR:-$here/out}
mkdir -p "$out"
round_trips=${BENCH_ROUND_TRIPS:-400000}
oneshot_jobs=${BENCH_ONESHOT_JOBS:-2000}
host="$bin/plugin-host"

# rate TASKS: runs plugin-host with the remaining arguments and prints tasks per second.
host_rate() {
  local tasks=$1; shift
  local line
  line=$("$host" run --no-progress "$@" 2>&1 | grep -E '^plugin-host: [0-9]+ tasks' | tail -1)
  local seconds
  seconds=$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$line")
  python3 -c "print(f'{$tasks / $seconds:.0f}')"
}

echo "== references (same invocation) =="
refs=$(bash "$here/reference/run-references.sh")
echo "$refs"
ref_rate() { grep -E "^$1 workers=$2 " <<<"$refs" | sed -E 's/.* rate=([0-9.]+).*/\1/'; }

echo
echo "== PluginHost =="
p1=$(host_rate "$round_trips" -j 1 --policy persistent chaos --repeat "$round_trips" echo)
echo "plugin-host persistent workers=1 round_trips=$round_trips rate=$p1"
p2=$(host_rate "$round_trips" -j 2 --policy persistent chaos --repeat "$round_trips" echo)
echo "plugin-host persistent workers=2 round_trips=$round_trips rate=$p2"
if [ -e "$bin/libEchoSwiftPlugin.so" ]; then
  s2=$(host_rate "$round_trips" -j 2 echo-swift --count "$round_trips")
  echo "plugin-host persistent swift-plugin workers=2 round_trips=$round_trips rate=$s2"
fi
events="$out/oneshot-events.jsonl"
o2=$(host_rate "$oneshot_jobs" -j 2 --events "$events" chaos --repeat "$oneshot_jobs" echo)
first=$(python3 "$here/first_response.py" "$events")
echo "plugin-host one-shot (fork server, spares: the default) workers=2 jobs=$oneshot_jobs rate=$o2 $first"
events="$out/oneshot-exec-events.jsonl"
e2=$(host_rate "$oneshot_jobs" -j 2 --no-fork-server --events "$events" chaos --repeat "$oneshot_jobs" echo)
first=$(python3 "$here/first_response.py" "$events")
echo "plugin-host one-shot exec'd workers (--no-fork-server) workers=2 jobs=$oneshot_jobs rate=$e2 $first"

echo
echo "== ratios =="
python3 - "$p2" "$o2" "$e2" "$(ref_rate c-thread-per-worker 2)" "$(ref_rate c-poll-loop 2)" \
  "$(ref_rate py-pool-imap-unordered 2)" "$(ref_rate py-ppe-map 2)" "$(ref_rate py-pool-oneshot 2)" \
  "$(ref_rate c-oneshot 2)" <<'PY'
import sys
p2, o2, e2, c_tpw, c_poll, py_pool, py_ppe, py_oneshot, c_oneshot = map(float, sys.argv[1:])
print(f"persistent, 2 workers: {p2/c_tpw:.2f}x the C thread-per-worker reference, {p2/c_poll:.2f}x the C poll loop, "
      f"{p2/max(py_pool, py_ppe):.2f}x Python's best pool")
print(f"one-shot, 2 workers (default: fork server and spares): {o2/py_oneshot:.2f}x Python's Pool(maxtasksperchild=1), "
      f"{o2/c_oneshot:.2f}x the C one-shot reference (target: >= 1x), {o2/e2:.2f}x exec'd workers")
print(f"one-shot, exec'd workers (--no-fork-server), 2 workers: {e2/c_oneshot:.2f}x the C one-shot reference")
PY

if [ "${BENCH_SKIP_PROOFCHECK:-}" != 1 ]; then
  echo
  echo "== ProofCheck (iset.mm and a scaled copy) =="
  python3 "$here/proofcheck_bench.py" "$bin"
fi
