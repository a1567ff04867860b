#!/usr/bin/env bash
# Seeing a run, and what it costs: the persistent trivial benchmark (chaos echo, 2 workers) with
# --events, --trace, --results and all three, each as a ratio to the plain run of the same
# invocation (runs interleaved, median of BENCH_REPEATS); then the HTML report of a run of about
# a million events: the time `plugin-host report` takes to build it, its size, and the time a
# headless chromium takes to load it and draw every attempt (when chromium is installed).
#
# usage: Benchmarks/report.sh RELEASE_BIN_DIR
set -euo pipefail
bin=${1:?usage: Benchmarks/report.sh RELEASE_BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT_DIR:-$here/out}
mkdir -p "$out"
round_trips=${BENCH_ROUND_TRIPS:-400000}
repeats=${BENCH_REPEATS:-5}
million=${BENCH_REPORT_TASKS:-333333}
host="$bin/plugin-host"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# seconds CMD...: wall time and CPU time (user + system) of a command, in seconds: 'WALL CPU'.
seconds() { python3 -c 'import resource, subprocess, sys, time
t = time.monotonic(); subprocess.run(sys.argv[1:], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{time.monotonic() - t:.3f} {u.ru_utime + u.ru_stime:.3f}")' "$@"; }

# run_rate OPTIONS...: tasks per second of the persistent trivial benchmark with these options,
# over the whole process's wall time (so a writer still busy after the last task counts too).
run_rate() {
  python3 - "$round_trips" "$host" run --no-progress -j 2 --policy persistent "$@" chaos --repeat "$round_trips" echo <<'PY'
import subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(f"{int(sys.argv[1]) / (time.monotonic() - start):.0f}")
PY
  rm -rf "$work/results" "$work/trace.json" "$work/events.jsonl"
}

echo "== cost of --events, --trace, --results (persistent, 2 workers, $round_trips trivial tasks, median of $repeats) =="
declare -A rates
configs=(plain events trace results all)
for ((i = 0; i < repeats; i++)); do
  for config in "${configs[@]}"; do
    case $config in
      plain) options=() ;;
      events) options=(--events "$work/events.jsonl") ;;
      trace) options=(--trace "$work/trace.json") ;;
      results) options=(--results "$work/results") ;;
      all) options=(--events "$work/events.jsonl" --trace "$work/trace.json" --results "$work/results") ;;
    esac
    rates[$config]+="$(run_rate "${options[@]}") "
  done
done
python3 - "${rates[plain]}" "${rates[events]}" "${rates[trace]}" "${rates[results]}" "${rates[all]}" <<'PY'
import statistics, sys
names = ["plain", "--events", "--trace", "--results", "all three"]
medians = [statistics.median(map(float, arg.split())) for arg in sys.argv[1:]]
for name, rate in zip(names, medians):
    target = "" if name in ("plain", "all three") else "  (target: cost <= 10 %)"
    print(f"{name:10} rate={rate:.0f} tasks/s  {rate / medians[0]:.3f}x plain  cost {100 * (medians[0] / rate - 1):+.1f} % more time{target}")
PY
echo "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

echo
echo "== HTML report of about a million events =="
"$host" run --no-progress -j 2 --policy persistent --events "$work/million.jsonl" chaos --repeat "$million" echo >/dev/null 2>&1
events=$(wc -l <"$work/million.jsonl")
walls=(); cpus=()
for ((i = 0; i < 3; i++)); do
  read -r wall cpu < <(seconds "$host" report "$work/million.jsonl" -o "$work/million.html")
  walls+=("$wall"); cpus+=("$cpu")
done
wall=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n 2p)
cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n 2p)
size=$(stat -c %s "$work/million.html")
echo "report events=$events build_wall_seconds=$wall build_cpu_seconds=$cpu (median of 3; walls ${walls[*]}) html_bytes=$size target_seconds=5"
echo "load average while measuring: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
if command -v chromium >/dev/null; then
  start=$(date +%s.%N)
  chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" --window-size=1400,2600 \
    --dump-dom "file://$work/million.html" 2>/dev/null >"$work/million-dom.html"
  end=$(date +%s.%N)
  drawn=$(grep -o 'id="drawn-attempts">[0-9]*' "$work/million-dom.html" | grep -o '[0-9]*$' || echo 0)
  attempts=$(grep -c '"event":"task-started"' "$work/million.jsonl")
  echo "chromium load+draw seconds=$(python3 -c "print(f'{$end - $start:.2f}')") drawn_attempts=$drawn of $attempts"
  chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile" --window-size=1400,1400 \
    --screenshot="$out/report-million.png" "file://$work/million.html" >/dev/null 2>&1 || true
fi
