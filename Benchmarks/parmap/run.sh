#!/usr/bin/env bash
# make bench, ParMap part: two workloads over the same input (BENCH_PARMAP_ITEMS doubles, default
# 10 million), 2 workers: cos from libm (cheap: overhead dominates) and pmf_work_1us from the
# fixture library (about 1 µs per call). For each, in the same invocation: parmap's throughput,
# a plain single-threaded C loop doing the same parse, call and format (the plugin's own
# pm_number.c compiled in), and
# Python's multiprocessing.Pool(2).imap (chunksize 10,000) calling the function through ctypes.
# parmap's output is checked against the plain loop's, byte for byte. No thresholds.
#
# usage: Benchmarks/parmap/run.sh RELEASE_BIN_DIR
set -euo pipefail
bin=${1:?usage: Benchmarks/parmap/run.sh RELEASE_BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT_DIR:-$here/../out}/parmap
mkdir -p "$out"
items=${BENCH_PARMAP_ITEMS:-10000000}
py_items=${BENCH_PARMAP_PY_ITEMS:-$items}
CC=${CC:-cc}
PYTHON=${PYTHON:-python3}

"$CC" -O2 -Wall -Wextra -I"$here/../../Plugins/ParMap" -o "$out/plain_loop" "$here/plain_loop.c" \
  "$here/../../Plugins/ParMap/pm_number.c" -ldl
input="$out/input-$items.txt"
[ -s "$input" ] || "$out/plain_loop" --generate "$items" "$input"
py_input="$input"
if [ "$py_items" != "$items" ]; then
  py_input="$out/input-py-$py_items.txt"
  head -n "$py_items" "$input" >"$py_input"
fi

rate_of() { sed -E 's/.*rate=([0-9.]+).*/\1/' <<<"$1"; }

echo "== ParMap: $items inputs, 2 workers (machine shared: compare within one run) =="
for workload in "cos libm.so.6 cos" "work-1us $bin/libParMapFixture.so pmf_work_1us"; do
  read -r name lib symbol <<<"$workload"
  line=$("$bin/plugin-host" run -j 2 --no-progress parmap --library "$lib" --symbol "$symbol" \
    --signature 'double(double)' --input "$input" --output "$out/parmap-$name.out" 2>&1 |
    grep -E '^plugin-host: [0-9]+ tasks' | tail -1)
  seconds=$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$line")
  parmap_rate=$(python3 -c "print(f'{$items / $seconds:.0f}')")
  echo "parmap $name workers=2 items=$items seconds=$seconds rate=$parmap_rate"
  loop=$("$out/plain_loop" "$lib" "$symbol" "$input" "$out/loop-$name.out")
  echo "plain-c-loop $name workers=1 $loop"
  if cmp -s "$out/parmap-$name.out" "$out/loop-$name.out"; then
    echo "check $name: parmap output identical to the plain loop's"
  else
    echo "check $name: OUTPUTS DIFFER" >&2
    exit 1
  fi
  py=$("$PYTHON" -B "$here/py_imap.py" "$lib" "$symbol" "$py_input" "$out/py-$name.out")
  echo "python-pool-imap $name workers=2 $py"
  python3 -c "
p, l, y = $parmap_rate, $(rate_of "$loop"), $(rate_of "$py")
print(f'ratio $name: parmap {p/l:.2f}x the plain C loop, {p/y:.2f}x Python Pool.imap')"
done
