#!/usr/bin/env bash
# Workers placed by a real Slurm against local workers, in one invocation (run by `make bench`,
# as root): the two-node cluster of Tests/Integration/slurm-cluster.sh, the README's Slurm
# recipe (one agent step per node, one slot each), and the same command with `-j 2` locally,
# alternated inside one allocation, best of 3 (wall time of plugin-host alone, the agents'
# start included; the allocation not). Prints each pair, the ratio and its target:
#   - 1,000 one-shot trivial chaos jobs: the Slurm rate at least 30 % of the local rate; and, for
#     reference, the same through srun's relay of standard input and output (srun
#     --export=NONE: the agent gets no secret, so it does not connect back; one run);
#   - 20,000 persistent trivial round trips (no target; the ssh agents' figure beside it);
#   - ProofCheck on Debian's set.mm (metamath-databases), one-shot: at most 2x the local time (the
#     image crosses to each node once as a blob; the nodes' blob cache is the run's).
#
# usage: Benchmarks/slurm/run.sh RELEASE_BIN_DIR
set -euo pipefail
bin=$(realpath "${1:?usage: run.sh RELEASE_BIN_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
skip() { echo "slurm bench: skipped: $*"; exit 0; }
fail() { echo "slurm bench: FAIL: $*" >&2; exit 1; }
setmm=/usr/share/metamath/databases/set.mm
[ -r "$setmm" ] || skip "$setmm is missing (make test-deps installs metamath-databases)"
# shellcheck source=../../Tests/Integration/slurm-cluster.sh
source "$repo/Tests/Integration/slurm-cluster.sh"
export PLUGIN_HOST_BLOB_CACHE="$run/blobs"

echo "slurm bench: 2 local workers vs the README's Slurm recipe on 2 nodes (1 slot each); load average $(cut -d' ' -f1-3 /proc/loadavg)"
cat >"$run/bench.py" <<'PY'
import os, subprocess, sys, time
bin, hosts, setmm = sys.argv[1:4]
nodes = subprocess.run(["scontrol", "show", "hostnames", os.environ["SLURM_JOB_NODELIST"]],
                       capture_output=True, text=True, check=True).stdout.split()
with open(hosts, "w") as f:
    f.write("".join(f"{node} 1\n" for node in nodes))
recipe = f"srun --nodes=1 --ntasks=1 --overlap -w {{host}} --quiet -u {bin}/plugin-worker"
relay = f"srun --export=NONE --nodes=1 --ntasks=1 --overlap -w {{host}} --quiet -u {bin}/plugin-worker"
host = [f"{bin}/plugin-host", "run", "--no-progress", "--quiet"]
local = host + ["-j", "2"]
slurm = host + ["--hosts", hosts, "--launcher", recipe]

def timed(command):
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode()[-2000:])
        sys.exit(f"command failed ({done.returncode}): {' '.join(command)}")
    return elapsed

def best_alternated(commands, rounds=3):
    best = [None] * len(commands)
    for _ in range(rounds):
        for i, command in enumerate(commands):
            t = timed(command)
            best[i] = t if best[i] is None else min(best[i], t)
    return best

jobs = ["--policy", "one-shot", "chaos", "--repeat", "1000", "echo:a"]
l, s = best_alternated([local + jobs, slurm + jobs])
share = (1000 / s) / (1000 / l)
print(f"1,000 one-shot trivial jobs         local {l:6.2f} s ({1000 / l:5.0f}/s)   slurm {s:6.2f} s ({1000 / s:5.0f}/s): "
      f"{share * 100:3.0f} % of local   target >= 30 %: {'met' if share >= 0.30 else 'NOT met'}")
r = timed(host + ["--hosts", hosts, "--launcher", relay] + jobs)
print(f"  through srun's relay (no connect-back, one run)    slurm {r:6.2f} s ({1000 / r:5.0f}/s): {(l / r) * 100:3.0f} % of local")
rounds = ["--policy", "persistent", "chaos", "--repeat", "20000", "echo:a"]
l, s = best_alternated([local + rounds, slurm + rounds])
print(f"20,000 persistent trivial round trips local {l:6.2f} s ({20000 / l:6.0f}/s)   slurm {s:6.2f} s ({20000 / s:6.0f}/s): "
      f"slurm/local per task {s / l:4.2f}x (reference: ssh agents 9.5x)")
pc = ["proofcheck", setmm]
l, s = best_alternated([local + pc, slurm + pc])
print(f"ProofCheck set.mm one-shot          local {l:6.2f} s   slurm {s:6.2f} s: slurm/local {s / l:4.2f}x   "
      f"target <= 2x: {'met' if s / l <= 2 else 'NOT met'}")
PY
salloc --quiet -N 2 --ntasks-per-node=1 python3 "$run/bench.py" "$bin" "$run/hosts" "$setmm"
echo "slurm bench: load average $(cut -d' ' -f1-3 /proc/loadavg)"
