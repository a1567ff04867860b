#!/usr/bin/env bash
# make bench: local one-shot speed (a fresh worker per job, 2 workers), PluginHost's local worker
# modes beside the C exec-per-job reference (Benchmarks/reference/pingpong.c --oneshot), runs
# alternating round by round in one invocation (the machine is noisy). Prints each figure beside
# the reference and the target (jobs/s at least the C reference's, first response <= 0.5 ms),
# and the load average. Nothing here asserts a threshold.
#
# usage: Benchmarks/oneshot.sh RELEASE_BIN_DIR    (BENCH_ONESHOT_JOBS, BENCH_ONESHOT_ROUNDS)
set -euo pipefail
bin=${1:?usage: Benchmarks/oneshot.sh RELEASE_BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT_DIR:-$here/out}
jobs=${BENCH_ONESHOT_JOBS:-2000}
rounds=${BENCH_ONESHOT_ROUNDS:-3}
mkdir -p "$out/reference"
cc -O2 -pthread -Wall -Wextra -o "$out/reference/pingpong" "$here/reference/pingpong.c"

# name|plugin-host arguments before the kind
modes=("fork-server (default)|"
       "fork-server --no-worker-cgroups|--no-worker-cgroups"
       "exec'd workers (--no-fork-server)|--no-fork-server")

results="$out/oneshot-results.txt"
: >"$results"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
  line=$("$out/reference/pingpong" --oneshot 2 "$jobs")
  rate=$(sed -E 's/.* rate=([0-9.]+).*/\1/' <<<"$line")
  first=$(sed -E 's/.* first_response_ms=([0-9.]+).*/\1/' <<<"$line")
  echo "C-reference|$rate|$first" >>"$results"
  for mode in "${modes[@]}"; do
    name=${mode%%|*}
    read -r -a extra <<<"${mode#*|}"
    events="$out/oneshot-round-events.jsonl"
    summary=$("$bin/plugin-host" run --no-progress -j 2 "${extra[@]}" --events "$events" chaos --repeat "$jobs" echo 2>&1 \
      | grep -E '^plugin-host: [0-9]+ tasks' | tail -1)
    seconds=$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$summary")
    first=$(python3 "$here/first_response.py" "$events" | sed -E 's/first_response_ms_median=([0-9.]+).*/\1/')
    echo "$name|$(python3 -c "print(f'{$jobs / $seconds:.0f}')")|$first" >>"$results"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" "$jobs" "$rounds" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    name, rate, first = line.rstrip("\n").split("|")
    rows.setdefault(name, []).append((float(rate), float(first)))
jobs, rounds = sys.argv[2], sys.argv[3]
c_rate = statistics.median(r for r, _ in rows["C-reference"])
c_first = statistics.median(f for _, f in rows["C-reference"])
print(f"one-shot, 2 workers, {jobs} trivial jobs, median of {rounds} alternating rounds")
print(f"{'':36} {'jobs/s':>8} {'x C':>6} {'first ms':>9}   targets: >= C's jobs/s, first response <= 0.5 ms")
for name, values in rows.items():
    rate = statistics.median(r for r, _ in values)
    first = statistics.median(f for _, f in values)
    each = ", ".join(f"{r:.0f}" for r, _ in values)
    print(f"{name:36} {rate:8.0f} {rate / c_rate:6.2f} {first:9.2f}   (rounds: {each})")
PY
