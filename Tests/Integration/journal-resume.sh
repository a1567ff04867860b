#!/usr/bin/env bash
# Integration test (release build, run by `make test`): plugin-host killed with SIGKILL at
# seeded random moments and resumed with --resume until done, for chaos (tasks with follow-ups
# pinned to their worker, feedback, failures), ParMap (ordered output file, resumed from its own
# checkpoints) and ProofCheck (iset.mm, also through --image-cache, and Debian's set.mm where
# installed, --json). Each final
# result must equal an uninterrupted run's: the same exit status,
# the same stdout (ProofCheck's elapsed seconds and worker count masked: they differ between any
# two runs) and the same output file byte for byte. Work redone must stay within the tasks in
# flight at the kills (-j per kill, twice for a pinned follow-up, whose parent runs again with
# it): tasks started in all runs (--events) at most the uninterrupted run's plus that, and tasks
# journaled more than once (plugin-host journal) at most that. ParMap journals checkpoints, not
# task ends: a kill redoes at most its open chunks (its window, 4 per worker) and one more.
# After every other kill the journal's last record is torn (cut at a random byte, the state a
# kill inside the journal's own write leaves): the resume must drop it and redo that task.
# Then two faults caused for real on chaos: a master killed by the kernel inside the journal's
# own write (SIGXFSZ: `ulimit -f` cuts the write at the limit, mid-record), and a master killed
# with SIGKILL while it drains after SIGTERM; each resumed to the uninterrupted run's output.
#
# usage: Tests/Integration/journal-resume.sh RELEASE_BIN_DIR [SEED]
# Sizes (env): JOURNAL_KILLS (20), JOURNAL_CHAOS_REPEAT (2000: 12,000 tasks),
# JOURNAL_PARMAP_ITEMS (10,000,000), JOURNAL_ISET=0 skips ProofCheck on iset.mm, JOURNAL_SETMM=0
# on set.mm (/usr/share/metamath/databases/set.mm, run where it is installed).
set -euo pipefail
bin=${1:?usage: journal-resume.sh RELEASE_BIN_DIR [SEED]}
seed=${2:-${JOURNAL_SEED:-14}}
RANDOM=$seed
kills=${JOURNAL_KILLS:-20}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/journal-resume.XXXXXX)
trap 'rm -rf "$work"' EXIT
host="$bin/plugin-host"
status=0

# Tasks started in a run, from its --events file. A killed run loses the lines its stdio buffer
# held, so for killed runs this is a lower bound; the journal's own count of tasks ended more
# than once (plugin-host journal FILE) is exact.
started() { if [ -f "$1" ]; then grep -c '"task-started"' "$1" || true; else echo 0; fi; }
mask() { sed -E 's/ in [0-9]+\.[0-9]+ s, [0-9]+ workers?/ in S s, W workers/; s/"seconds":[0-9.]+,"workers":[0-9]+/"seconds":S,"workers":W/'; }

# check NAME JOBS OUTPUT_FILE -- PLUGIN ARGS...
# OUTPUT_FILE ("-" for none) is compared too. PER_KILL (env, default twice JOBS) is the work a
# kill may have in flight. Each kill comes at a random point of the work
# left: once the journal has grown by a random 5-60 % of what it still lacks (its full size is
# that of a journaled run done first; at most 95 % of it), polled every 5 ms.
check() {
  local name=$1 jobs=$2 output=$3
  shift 4
  local dir="$work/$name"
  mkdir -p "$dir"
  set +e
  "$host" run -j "$jobs" --no-progress --events "$dir/ref.events" "$@" >"$dir/ref.out" 2>"$dir/ref.err"
  local ref_status=$?
  set -e
  [ "$output" = - ] || cp "$output" "$dir/ref.file"
  "$host" run -j "$jobs" --no-progress --quiet --journal "$dir/full.journal" "$@" >/dev/null 2>&1 || true
  [ "$output" = - ] || rm -f "$output"
  # Progress is the journal's size; for a kind with an output file, the output's (ParMap's
  # checkpoints come one per 16 KiB of output or more, so the journal does not grow evenly).
  local progress=$output full
  [ "$output" != - ] || progress="$dir/journal"
  if [ "$output" = - ]; then full=$(stat -c %s "$dir/full.journal"); else full=$(stat -c %s "$dir/ref.file"); fi
  local journal="$dir/journal" total=0 killed=0 torn=0 option=--journal run=0 code
  rm -f "$journal"
  while :; do
    run=$((run + 1))
    "$host" run -j "$jobs" --no-progress --events "$dir/run$run.events" $option "$journal" "$@" \
      >"$dir/out" 2>"$dir/err" &
    local pid=$!
    if [ $killed -lt "$kills" ]; then
      local now target
      now=$(stat -c %s "$progress" 2>/dev/null || echo 0)
      target=$(( now + (full - now) * (RANDOM % 56 + 5) / 100 ))
      # Record counts vary a little between runs (a task's end replayed, not journaled again): a
      # target past 95 % of the full size might never be reached.
      if [ $target -gt $((full * 95 / 100)) ]; then target=$((full * 95 / 100)); fi
      while kill -0 $pid 2>/dev/null && [ "$(stat -c %s "$progress" 2>/dev/null || echo 0)" -lt $target ]; do sleep 0.005; done
      kill -9 $pid 2>/dev/null && killed=$((killed + 1))
    fi
    set +e
    wait $pid
    code=$?
    set -e
    total=$((total + $(started "$dir/run$run.events")))
    option=--resume
    if [ $code -ne 137 ]; then break; fi
    if [ $((killed % 2)) -eq 0 ] && [ -s "$journal" ]; then
      # Tear the last record: cut 1..40 bytes off (never into the header, which is longer).
      local size cut
      size=$(stat -c %s "$journal")
      cut=$(( (RANDOM % 40) + 1 ))
      if [ "$size" -gt 400 ]; then truncate -s $((size - cut)) "$journal"; torn=$((torn + 1)); fi
    fi
  done
  local reference allowed twice
  reference=$(started "$dir/ref.events")
  allowed=$((killed * ${PER_KILL:-$((jobs * 2))} + torn * 2))
  twice=$("$host" journal "$journal" | sed -nE 's/.* ([0-9]+) ended more than once.*/\1/p')
  local problems=()
  [ $code -eq $ref_status ] || problems+=("exit $code, uninterrupted $ref_status")
  cmp -s <(mask <"$dir/out") <(mask <"$dir/ref.out") || problems+=("stdout differs: $(head -c 300 "$dir/out")")
  if [ "$output" != - ] && ! cmp -s "$output" "$dir/ref.file"; then problems+=("output file differs"); fi
  [ $total -le $((reference + allowed)) ] || problems+=("$total tasks started, more than $reference + the $allowed in flight")
  [ "${twice:-x}" -le $allowed ] 2>/dev/null || problems+=("journal: ${twice:-no count} tasks ended more than once")
  if [ ${#problems[@]} -eq 0 ]; then
    echo "journal-resume: ok $name: $killed kills ($torn torn records), $run runs; tasks started $total" \
      "(uninterrupted $reference; killed runs lose buffered --events lines), $twice journaled twice" \
      "(at most $allowed in flight); output identical"
  else
    echo "journal-resume: FAIL $name (seed $seed): ${problems[*]}" >&2
    tail -3 "$dir/err" >&2
    status=1
  fi
}

repeat=${JOURNAL_CHAOS_REPEAT:-2000}
check chaos 4 - -- --policy persistent chaos --pull --repeat "$repeat" echo:a feedback:2 followup:3 fail:x sleep:1

items=${JOURNAL_PARMAP_ITEMS:-10000000}
seq 1 "$items" >"$work/items"
PER_KILL=9 check parmap 2 "$work/cos.out" -- parmap --library libm.so.6 --symbol cos --signature 'double(double)' \
  --chunk 2000 --input "$work/items" --output "$work/cos.out"

if [ "${JOURNAL_ISET:-1}" != 0 ]; then
  iset=$(realpath -m "$here/../../../shared/data/metamath/iset.mm")
  if [ -r "$iset" ]; then
    check proofcheck 2 - -- proofcheck --json --batches-per-worker 16 "$iset"
    # The same through a compiled-image cache: kills land in its first write too (an entry is
    # named only once complete), and every later run and resume copies the image from it.
    check proofcheck-cached 2 - -- proofcheck --json --batches-per-worker 16 --image-cache "$work/images" "$iset"
  else
    echo "journal-resume: FAIL: $iset is missing (../shared must sit beside the package)" >&2
    status=1
  fi
fi
setmm=/usr/share/metamath/databases/set.mm
if [ "${JOURNAL_SETMM:-1}" != 0 ] && [ -r "$setmm" ]; then
  check setmm 2 - -- proofcheck --json --batches-per-worker 16 "$setmm"
fi

# fault_reference NAME ARGS...: an uninterrupted run of chaos ARGS (its output and status), kept
# with the arguments for finish.
fault_reference() {
  local dir="$work/$1"
  shift
  mkdir -p "$dir"
  printf '%s\n' "$@" >"$dir/args"
  set +e
  "$host" run -j 4 --no-progress --quiet "$@" >"$dir/ref.out" 2>/dev/null
  echo $? >"$dir/ref.status"
  set -e
}
# finish NAME WHAT: resumes the journal; the output and status must be the uninterrupted run's.
finish() {
  local dir="$work/$1" code args=()
  mapfile -t args <"$dir/args"
  set +e
  "$host" run -j 4 --no-progress --quiet --resume "$dir/journal" "${args[@]}" >"$dir/out" 2>"$dir/err"
  code=$?
  set -e
  if [ "$code" = "$(cat "$dir/ref.status")" ] && cmp -s "$dir/out" "$dir/ref.out"; then
    echo "journal-resume: ok $1: $2; resumed to the uninterrupted run's output"
  else
    echo "journal-resume: FAIL $1: $2; resumed: exit $code (uninterrupted $(cat "$dir/ref.status")): $(head -c 300 "$dir/err")" >&2
    status=1
  fi
}

# The kernel kills the master inside the journal's write: the file size limit (64 KiB) cuts the
# write of a record at the limit and SIGXFSZ ends the master, so the journal ends mid-record.
write_args=(--policy persistent chaos --pull --repeat 400 echo:a feedback:2 followup:3 fail:x)
fault_reference journal-write "${write_args[@]}"
dir="$work/journal-write"
set +e
(ulimit -f 64; exec "$host" run -j 4 --no-progress --quiet --journal "$dir/journal" "${write_args[@]}" >/dev/null 2>&1)
code=$?
set -e
size=$(stat -c %s "$dir/journal")
shown=$("$host" journal "$dir/journal" 2>&1 || true)
if [ $code -ne $((128 + 25)) ] || [ "$size" -ne 65536 ] || [[ "$shown" != *"a torn last record"* ]]; then
  echo "journal-resume: FAIL journal-write: exit $code (want 153, SIGXFSZ), journal $size bytes (want 65536 ending in a torn record)" >&2
  status=1
else
  finish journal-write "killed by SIGXFSZ inside the journal's write at byte $size, a torn last record"
fi

# SIGKILL while draining: SIGTERM once some tasks ended, SIGKILL once the drain began (its line
# on stderr) and before the run ended (running tasks sleep 300 ms).
drain_args=(--policy persistent chaos --pull --repeat 60 echo:a sleep:300 followup:2 fail:x)
fault_reference drain "${drain_args[@]}"
dir="$work/drain"
"$host" run -j 4 --no-progress --journal "$dir/journal" "${drain_args[@]}" >/dev/null 2>"$dir/drain.err" &
pid=$!
while kill -0 $pid 2>/dev/null && [ "$(stat -c %s "$dir/journal" 2>/dev/null || echo 0)" -lt 2000 ]; do sleep 0.005; done
kill -TERM $pid 2>/dev/null || true
while kill -0 $pid 2>/dev/null && ! grep -q draining "$dir/drain.err"; do sleep 0.001; done
kill -9 $pid 2>/dev/null || true
set +e
wait $pid
code=$?
set -e
if [ $code -ne 137 ] || ! grep -q draining "$dir/drain.err"; then
  echo "journal-resume: FAIL drain: exit $code (want 137: killed while draining); stderr: $(head -c 300 "$dir/drain.err")" >&2
  status=1
else
  finish drain "SIGKILL while draining after SIGTERM"
fi
exit $status
