#!/usr/bin/env bash
# make bench: the journal's cost. The same run with and without --journal, alternated in this
# invocation (these machines are noisy), for ParMap `cos` over many items (which resumes from
# checkpoints, ph.checkpoint/1) and ProofCheck on iset.mm (set.mm too where Debian's
# metamath-databases is installed); then a run killed with SIGKILL once its journal reached 90 %
# of its full size, resumed: the resume's wall time against the full run's (medians of
# $BENCH_JOURNAL_ROUNDS kills); ProofCheck also with --image-cache (full and resumed runs alike
# reuse the compiled image). Prints times and
# ratios beside issue 14's targets (journal <= 1.05x, resume <= 0.15x); asserts nothing.
#
# usage: Benchmarks/journal/run.sh RELEASE_BIN_DIR
set -euo pipefail
bin=${1:?usage: Benchmarks/journal/run.sh RELEASE_BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
host="$bin/plugin-host"
work=$(mktemp -d /tmp/journal-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
rounds=${BENCH_JOURNAL_ROUNDS:-3}
items=${BENCH_JOURNAL_ITEMS:-10000000}

now() { date +%s.%N; }
# wall SECONDS_VAR ARGS...: one run of plugin-host, its wall time in seconds on stdout.
wall() {
  local start end
  start=$(now)
  "$host" run --no-progress --quiet "$@" >/dev/null 2>&1 || true
  end=$(now)
  python3 -c "print(f'{$end - $start:.3f}')"
}

# compare NAME ARGS...: alternates runs without and with a journal; prints medians and the ratio.
compare() {
  local name=$1
  shift
  local off=() on=()
  for round in $(seq "$rounds"); do
    off+=("$(wall "$@")")
    rm -f "$work/journal"
    on+=("$(wall --journal "$work/journal" "$@")")
  done
  python3 - "$name" "$(stat -c %s "$work/journal")" "${off[*]}" "${on[*]}" <<'PY'
import statistics, sys
name, size, off, on = sys.argv[1], int(sys.argv[2]), list(map(float, sys.argv[3].split())), list(map(float, sys.argv[4].split()))
a, b = statistics.median(off), statistics.median(on)
print(f"{name}: without journal {a:.3f} s, with {b:.3f} s (median of {len(off)}): {b / a:.3f}x (target <= 1.05x), journal {size / 1e6:.2f} MB"
      f"  [off {' '.join(map(str, off))}; on {' '.join(map(str, on))}]")
PY
}

# resume90 NAME ARGS...: a full journaled run; then a run killed at 90 % of that journal's
# size, and its resume: the resume's wall time over the full run's. Rounds alternate a full run,
# a kill and a resume; the figures are medians over the rounds (one kill is a noisy sample).
resume90() {
  local name=$1
  shift
  local fulls=() resumes=() ats=()
  for round in $(seq "$rounds"); do
    rm -f "$work/full"
    fulls+=("$(wall --journal "$work/full" "$@")")
    local target=$(( $(stat -c %s "$work/full") * 9 / 10 ))
    rm -f "$work/killed"
    "$host" run --no-progress --quiet --journal "$work/killed" "$@" >/dev/null 2>&1 &
    local pid=$!
    while kill -0 $pid 2>/dev/null && [ "$(stat -c %s "$work/killed" 2>/dev/null || echo 0)" -lt $target ]; do sleep 0.005; done
    kill -9 $pid 2>/dev/null || true
    local killed=0
    wait $pid 2>/dev/null || killed=$?
    # A run whose journal outgrew the full run's (more progress notes) may end before the kill:
    # its "resume" has nothing left to run, and is shown as "ended".
    if [ "$killed" = 137 ]; then ats+=("$(( 100 * $(stat -c %s "$work/killed") * 9 / 10 / target ))"); else ats+=(ended); fi
    resumes+=("$(wall --resume "$work/killed" "$@")")
  done
  python3 - "$name" "${fulls[*]}" "${resumes[*]}" "${ats[*]}" <<'PY'
import statistics, sys
name, fulls, resumes, ats = sys.argv[1], list(map(float, sys.argv[2].split())), list(map(float, sys.argv[3].split())), sys.argv[4].split()
full, resumed = statistics.median(fulls), statistics.median(resumes)
print(f"{name}: full run {full:.3f} s; killed at {'/'.join(ats)} % of its journal, resumed in {resumed:.3f} s "
      f"(medians of {len(fulls)}): {resumed / full:.3f}x the full run (target <= 0.15x)"
      f"  [full {' '.join(map(str, fulls))}; resumed {' '.join(map(str, resumes))}]")
PY
}

seq 1 "$items" >"$work/items"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
parmap=(-j 2 parmap --library libm.so.6 --symbol cos --signature 'double(double)' --chunk 20000 --input "$work/items" --output "$work/cos.out")
echo "== journal on vs off (same invocation) =="
compare "parmap cos, $items items, -j 2, --chunk 20000" "${parmap[@]}"
iset=$(realpath -m "$here/../../../shared/data/metamath/iset.mm")
proofcheck=(-j 2 proofcheck "$iset")
compare "proofcheck iset.mm, -j 2" "${proofcheck[@]}"
setmm=/usr/share/metamath/databases/set.mm
if [ -r "$setmm" ]; then compare "proofcheck set.mm, -j 2" -j 2 proofcheck "$setmm"; fi
echo
echo "== resume of a run killed at 90 % =="
resume90 "parmap cos, $items items" "${parmap[@]}"
resume90 "proofcheck iset.mm" "${proofcheck[@]}"
resume90 "proofcheck iset.mm --image-cache" -j 2 proofcheck --image-cache "$work/images" "$iset"
if [ -r "$setmm" ]; then
  resume90 "proofcheck set.mm" -j 2 proofcheck "$setmm"
  resume90 "proofcheck set.mm --image-cache" -j 2 proofcheck --image-cache "$work/images" "$setmm"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
