#!/usr/bin/env bash
# Builds and runs the reference measurements PluginHost's benchmark compares
# itself against (trivial request/response, one request in flight per worker).
# Prints one line per reference on stdout; exits non-zero if any reference
# fails to build or run. Nothing here asserts thresholds: rates on a 2-core
# machine are noisy, compare them only with figures taken on the same machine.
#
# Counts can be overridden from the environment, e.g.
#   C_ROUND_TRIPS=400000 PY_POOL_TASKS=100000 Benchmarks/reference/run-references.sh
# The compiled binary goes to Benchmarks/out/reference/ (git-ignored), or to
# $REF_OUT_DIR if set.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out_dir="${REF_OUT_DIR:-$here/../out/reference}"

C_ROUND_TRIPS="${C_ROUND_TRIPS:-400000}"        # thread-per-worker, 2 workers
C_ROUND_TRIPS_1="${C_ROUND_TRIPS_1:-100000}"    # thread-per-worker, 1 worker (slower)
C_POLL_ROUND_TRIPS="${C_POLL_ROUND_TRIPS:-200000}"
C_ONESHOT_JOBS="${C_ONESHOT_JOBS:-2000}"
PY_POOL_TASKS="${PY_POOL_TASKS:-50000}"
PY_PPE_TASKS="${PY_PPE_TASKS:-10000}"
PY_ONESHOT_TASKS="${PY_ONESHOT_TASKS:-1000}"

CC="${CC:-cc}"
PYTHON="${PYTHON:-python3}"

mkdir -p "$out_dir" || exit 1
out_dir="$(cd "$out_dir" && pwd)"
bin="$out_dir/pingpong"

if ! "$CC" -O2 -pthread -Wall -Wextra -o "$bin" "$here/pingpong.c"; then
    echo "run-references: failed to build pingpong.c" >&2
    exit 1
fi

failures=0
run() {
    if ! "$@"; then
        echo "run-references: FAILED: $*" >&2
        failures=$((failures + 1))
    fi
}

start=$SECONDS
run "$bin" 1 "$C_ROUND_TRIPS_1"
run "$bin" 2 "$C_ROUND_TRIPS"
run "$bin" --poll 2 "$C_POLL_ROUND_TRIPS"
run "$bin" --oneshot 2 "$C_ONESHOT_JOBS"
run "$PYTHON" -B "$here/py_pool.py" \
    --pool-tasks "$PY_POOL_TASKS" --ppe-tasks "$PY_PPE_TASKS" --oneshot-tasks "$PY_ONESHOT_TASKS"

echo "run-references: done in $((SECONDS - start)) s, $failures failure(s)" >&2
[ "$failures" -eq 0 ]
