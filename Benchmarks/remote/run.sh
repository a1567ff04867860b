#!/usr/bin/env bash
# Local workers vs workers over real ssh, on the same machine (run by `make bench`, as root).
#
# Two ssh "hosts" in network namespaces (Tests/Integration/netns-hosts.sh) against 2 local
# workers, in one invocation: trivial tasks through a persistent pool (one request in flight per
# worker, so every task pays the link's round trip), one-shot workers (forked by the host's
# worker agent over its one ssh connection; for reference, a new ssh session per worker, plain
# and multiplexed), and ProofCheck on iset.mm and the x10 database (the image crosses as a blob once per
# host; its batches are the tasks). Prints each pair and the remote/local cost per task.
#
# usage: Benchmarks/remote/run.sh RELEASE_BIN_DIR
set -euo pipefail
bin=$(realpath "${1:?usage: run.sh RELEASE_BIN_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
skip() { echo "remote bench: skipped: $*"; exit 0; }
# shellcheck source=../../Tests/Integration/netns-hosts.sh
source "$repo/Tests/Integration/netns-hosts.sh"

host_cmd="$bin/plugin-host run --no-progress --quiet"
remote="--hosts $run/hosts --launcher"

# Best wall time in seconds of three runs of a command.
best_of_3() {
  python3 - "$@" <<'PY'
import subprocess, sys, time
best = None
for _ in range(3):
    start = time.perf_counter()
    done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode()[-2000:])
        sys.exit(f"command failed ({done.returncode}): {' '.join(sys.argv[1:])}")
    best = elapsed if best is None else min(best, elapsed)
print(f"{best:.4f}")
PY
}

compare() {  # label tasks local_seconds remote_seconds
  python3 - "$@" <<'PY'
import sys
label, tasks, local, remote = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"{label:44s} local {local:7.3f} s ({tasks/local:9.0f} tasks/s)   ssh {remote:7.3f} s ({tasks/remote:9.0f} tasks/s)   "
      f"ssh/local per task {remote/local:5.2f}x")
PY
}

# Marginal cost per task: the slope between a run of n and one of 3n tasks, so that fixed costs
# (ssh connections, start-up) do not count. label n local_n local_3n remote_n remote_3n
slope() {
  python3 - "$@" <<'PY'
import sys
label, n = sys.argv[1], int(sys.argv[2])
l1, l3, r1, r3 = map(float, sys.argv[3:7])
lp, rp = (l3 - l1) / (2 * n) * 1e6, (r3 - r1) / (2 * n) * 1e6
print(f"{label:44s} marginal cost per task: local {lp:8.2f} us   ssh {rp:8.2f} us   ssh/local {rp/lp:5.2f}x")
PY
}

echo "remote bench: 2 local workers vs 2 workers on 2 ssh hosts (netns, same machine; one agent connection per host unless said); best of 3"
n=20000
l=$(best_of_3 $host_cmd -j 2 --policy persistent chaos --repeat $n echo)
r=$(best_of_3 $host_cmd $remote "$launcher" --policy persistent chaos --repeat $n echo)
compare "trivial tasks, persistent workers ($n)" $n "$l" "$r"
r=$(best_of_3 $host_cmd $remote "$launcher_mux" --policy persistent chaos --repeat $n echo)
compare "  per worker, ssh multiplexed (ControlMaster)" $n "$l" "$r"
l3=$(best_of_3 $host_cmd -j 2 --policy persistent chaos --repeat $((3 * n)) echo)
r3=$(best_of_3 $host_cmd $remote "$launcher_mux" --policy persistent chaos --repeat $((3 * n)) echo)
slope "  trivial tasks, persistent" $n "$l" "$l3" "$r" "$r3"
n=600
l=$(best_of_3 $host_cmd -j 2 chaos --repeat $n echo)
r=$(best_of_3 $host_cmd $remote "$launcher" chaos --repeat $n echo)
compare "trivial tasks, one-shot workers ($n)" $n "$l" "$r"
n=60
l=$(best_of_3 $host_cmd -j 2 chaos --repeat $n echo)
r=$(best_of_3 $host_cmd $remote "$launcher_each" chaos --repeat $n echo)
compare "  per worker, a new ssh connection each ($n)" $n "$l" "$r"
r=$(best_of_3 $host_cmd $remote "$launcher_mux" chaos --repeat $n echo)
compare "  per worker, ssh multiplexed (ControlMaster)" $n "$l" "$r"

# Trivial items batched into tasks the way ProofCheck batches proofs: ParMap, cos over 1M values
# in adaptive chunks (~5 ms of work each) on persistent workers; libm exists on every host.
values="$run/values.txt"
python3 -c "import random; random.seed(7); print('\n'.join(repr(random.uniform(-1e3, 1e3)) for _ in range(1_000_000)))" >"$values"
libm=$(realpath /lib/x86_64-linux-gnu/libm.so.6)
pm="parmap --library $libm --symbol cos --signature double(double) --input $values --output /dev/null"
l=$(best_of_3 $host_cmd -j 2 $pm)
r=$(best_of_3 $host_cmd $remote "$launcher" $pm)
compare "parmap cos, 1M items in batches" 1000000 "$l" "$r"
r=$(best_of_3 $host_cmd $remote "$launcher_mux" $pm)
compare "  per worker, ssh multiplexed (ControlMaster)" 1000000 "$l" "$r"
for _ in 1 2 3; do cat "$values"; done >"$run/values3.txt"
pm3="parmap --library $libm --symbol cos --signature double(double) --input $run/values3.txt --output /dev/null"
l3=$(best_of_3 $host_cmd -j 2 $pm3)
r3=$(best_of_3 $host_cmd $remote "$launcher_mux" $pm3)
slope "  parmap items in batches" 1000000 "$l" "$l3" "$r" "$r3"

iset=$(realpath -m "$repo/../shared/data/metamath/iset.mm")
x10="$repo/Benchmarks/out/iset-x10.mm"
if [ ! -f "$x10" ] && [ -r "$iset" ]; then
  mkdir -p "$repo/Benchmarks/out"
  python3 "$repo/../shared/tools/scale-mm.py" "$iset" 10 "$x10"
fi
for db in "$iset" "$x10"; do
  [ -r "$db" ] || continue
  for mode in "" "--persistent"; do
    l=$(best_of_3 $host_cmd -j 2 proofcheck $mode "$db")
    r=$(best_of_3 $host_cmd $remote "$launcher" proofcheck $mode "$db")
    compare "proofcheck $(basename "$db") ${mode:---one-shot}" 1 "$l" "$r"
    r=$(best_of_3 $host_cmd $remote "$launcher_mux" proofcheck $mode "$db")
    compare "  per worker, ssh multiplexed (ControlMaster)" 1 "$l" "$r"
  done
done
