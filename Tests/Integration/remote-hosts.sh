#!/usr/bin/env bash
# Integration test (run by `make test`): workers on two real "hosts" reached through real ssh.
#
# The hosts (Tests/Integration/netns-hosts.sh): network namespaces joined by veth pairs, each
# running Debian's sshd in private mount and pid namespaces where the master's files are
# invisible, so nothing can work by accident through the shared disk.
#
# Checks: the master's files are invisible remotely; a run spreads over both hosts; values the
# launcher substitutes reach sshd's shell quoted, and a hosts entry that is a command is refused;
# cutting one host's link mid-run (ip link set down) and killing its sshd loses no task: every
# task ends exactly once, the run completes on the other host, and the host's failure is reported.
#
# Without the privileges to make namespaces the test prints why and skips, unless
# PLUGIN_HOST_REQUIRE_NETNS=1 (CI sets it), where a skip is a failure.
#
# usage: Tests/Integration/remote-hosts.sh BIN_DIR
set -euo pipefail
bin=$(realpath "${1:?usage: remote-hosts.sh BIN_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

skip() {
  if [ "${PLUGIN_HOST_REQUIRE_NETNS:-0}" = 1 ]; then
    echo "remote-hosts: FAIL: cannot run: $*" >&2
    exit 1
  fi
  echo "remote-hosts: SKIP: $*"
  exit 0
}
fail() { echo "remote-hosts: FAIL: $*" >&2; exit 1; }

# shellcheck source=netns-hosts.sh
source "$here/netns-hosts.sh"

# The remote side sees none of the master's files, not even through /proc.
for path in "$repo/Package.swift" "$bin/plugin-worker" "/proc/$$/fd"; do
  if ssh -F "$run/ssh_config" "${hosts[0]}" test -e "$path"; then fail "$path is visible on ${hosts[0]}"; fi
done
echo "remote-hosts: ok: the hosts see none of the master's files"

# Checks an events file: every queued task ended exactly once, all done; prints the slots used.
check_events() {
  python3 - "$1" <<'EOF'
import json, sys
queued, ended, slots, retried = set(), {}, set(), []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "task-queued": queued.add(e["task"])
    elif e["event"] == "task-ended": ended.setdefault(e["task"], []).append(e["outcome"])
    elif e["event"] == "task-started": slots.add(e["worker"].split(":")[1])
    elif e["event"] == "task-retried": retried.append(e["reason"])
twice = [t for t, o in ended.items() if len(o) != 1]
assert not twice, f"tasks ended more than once: {twice[:5]}"
assert queued == set(ended), f"tasks never ended: {sorted(queued - set(ended))[:5]}"
bad = [t for t, o in ended.items() if o != ["done"]]
assert not bad, f"tasks not done: {bad[:5]}"
print(len(queued), ",".join(sorted(slots)), "|".join(retried))
EOF
}

# 1. One-shot chaos tasks over both hosts: one ssh connection per host for the whole run (the
#    worker agent forks a fresh worker per task there), and the plugin, absent from the hosts,
#    sent to each once; then the same with one ssh connection per worker.
rm -f "$run/launches"
"$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$launcher" --events "$run/e1.jsonl" \
  chaos --repeat 30 sleep:20 >"$run/out1" 2>"$run/err1" || { cat "$run/err1" >&2; fail "the two-host run failed"; }
read -r count slots _ < <(check_events "$run/e1.jsonl") || fail "events of the two-host run: see above"
[ "$count" = 30 ] && [ "$slots" = "0,1" ] || fail "expected 30 tasks on slots 0,1; got $count on $slots"
workers=$(grep -c '"event":"worker-started"' "$run/e1.jsonl")
connections=$(wc -l <"$run/launches")
[ "$workers" = 30 ] && [ "$connections" = 2 ] || fail "expected 30 workers over 2 ssh connections; got $workers over $connections"
"$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$launcher_each" --events "$run/e1b.jsonl" \
  chaos --repeat 30 sleep:20 >"$run/out1" 2>"$run/err1" || { cat "$run/err1" >&2; fail "the two-host run, one launch per worker, failed"; }
read -r count slots _ < <(check_events "$run/e1b.jsonl") || fail "events of the two-host run (one launch per worker): see above"
[ "$count" = 30 ] && [ "$slots" = "0,1" ] || fail "one launch per worker: expected 30 tasks on slots 0,1; got $count on $slots"
echo "remote-hosts: ok: 30 one-shot tasks over both hosts through ssh: 30 workers over 2 connections (a worker agent per host, the plugin sent once), and with a connection per worker"

# 1a. Killing the master, or an agent, leaves no process behind on any host.
"$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$launcher" --events "$run/e-kill.jsonl" \
  chaos --repeat 4 hang >/dev/null 2>&1 &
master=$!
remote_workers() { ssh -F "$run/ssh_config" "$1" 'pgrep -f "[p]lugin-worker" | wc -l'; }
for _ in $(seq 400); do
  started=$(grep -c '"event":"task-started"' "$run/e-kill.jsonl" 2>/dev/null || true)
  [ "${started:-0}" -ge 2 ] && break
  sleep 0.05
done
[ "$(remote_workers "${hosts[0]}")" -ge 2 ] || fail "no agent and workers running on ${hosts[0]}"
ssh -F "$run/ssh_config" "${hosts[0]}" 'pkill -9 -f -- "[p]lugin-worker --agent"'
kill -9 "$master"
wait "$master" 2>/dev/null || true
for host in "${hosts[@]}"; do
  for _ in $(seq 100); do [ "$(remote_workers "$host")" = 0 ] && break; sleep 0.05; done
  [ "$(remote_workers "$host")" = 0 ] || fail "processes left on $host: $(ssh -F "$run/ssh_config" "$host" 'ps -eo pid,args | grep plugin-worker')"
done
if pgrep -f "ssh -F $run/ssh_config" >/dev/null; then fail "ssh clients left behind"; fi
echo "remote-hosts: ok: kill -9 of an agent and of the master leave no process on either host"

# 1b. Quoting for sshd's shell: ssh hands the words after the host to the remote user's shell,
#     so a plugin path holding a blank, quotes, '&', ';' and $(...) must arrive as one word,
#     whether the host appends it (--plugin PATH), the template names it ({plugin}) or only its
#     file name ({plugin-file}). Each host has a copy at the master's path; the runs work on both
#     hosts and no injected command leaves its file. A hosts entry that is a command is refused.
weird="p&touch pwned1&x;touch pwned2;\$(touch pwned3) 'q' \"d\""
weird_file="lib&touch pwned4;\$(touch pwned5) 'q' \"d\".so"
mkdir "$run/$weird"
cp "$bin/libChaosPlugin.so" "$run/$weird/libChaosPlugin.so"
cp "$bin/libChaosPlugin.so" "$run/$weird/$weird_file"
for i in 1 2; do
  cp "$bin/libChaosPlugin.so" "$run/host$i/plugins/$weird_file"
  # The path travels on stdin: the remote command itself holds no value to quote.
  printf '%s\n' "$run/$weird" | ssh -F "$run/ssh_config" "${hosts[$((i - 1))]}" \
    'IFS= read -r dir && mkdir -p "$dir" && cp /srv/ph/plugins/libChaosPlugin.so "$dir/"'
done
worker_only="ssh -F $run/ssh_config {host} /srv/ph/bin/plugin-worker"
for case in "appended|$worker_only|$run/$weird/libChaosPlugin.so" \
            "{plugin}|$worker_only --plugin {plugin}|$run/$weird/libChaosPlugin.so" \
            "{plugin-file}|$launcher_each|$run/$weird/$weird_file"; do
  IFS='|' read -r how template plugin <<<"$case"
  "$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$template" --events "$run/e-q.jsonl" \
    "$plugin" --repeat 4 echo:a >"$run/out-q" 2>"$run/err-q" || { cat "$run/err-q" >&2; fail "plugin path $how: the run failed"; }
  read -r count slots _ < <(check_events "$run/e-q.jsonl") || fail "events of the run with the plugin path $how: see above"
  [ "$count" = 4 ] && [ "$slots" = "0,1" ] || fail "plugin path $how: expected 4 tasks on slots 0,1; got $count on $slots"
done
for host in "${hosts[@]}"; do
  found=$(ssh -F "$run/ssh_config" "$host" 'ls -A / /root /srv/ph' | grep -x 'pwned[0-9]' || true)
  [ -z "$found" ] || fail "a command was injected on $host: $found"
done
found=$(ls -A . "$run" | grep -x 'pwned[0-9]' || true)
[ -z "$found" ] || fail "a command was injected here: $found"
printf '%s 1\nh2&touch${IFS}%s/pwned6& 1\n' "${hosts[0]}" "$run" >"$run/bad-hosts"
set +e
"$bin/plugin-host" run --no-progress --hosts "$run/bad-hosts" --launcher "$launcher" chaos echo:a >/dev/null 2>"$run/err-bad"
code=$?
set -e
[ "$code" = 2 ] && [ "$(wc -l <"$run/err-bad")" = 1 ] && grep -qF "$run/bad-hosts:2: 'h2&touch" "$run/err-bad" \
  && grep -qF "is not a host name" "$run/err-bad" || { cat "$run/err-bad" >&2; fail "the hosts entry h2&touch... was not refused (exit $code)"; }
[ ! -e "$run/pwned6" ] || fail "the hosts entry ran its command"
echo "remote-hosts: ok: a plugin path with a blank, quotes, &, ; and \$() reaches sshd's shell as one word (appended, {plugin}, {plugin-file}); a hosts entry that is a command is refused: $(cat "$run/err-bad")"

# 2. ParMap with a library the hosts do not have (the build directory is hidden there): the
#    library travels as a blob, once per host; the output matches a local run byte for byte.
ssh -F "$run/ssh_config" "${hosts[0]}" test -e "$bin/libParMapFixture.so" && fail "the fixture library is visible remotely"
seq 1 20000 | sed 's/$/.25/' >"$run/numbers"
"$bin/plugin-host" run --no-progress -j 2 parmap --library "$bin/libParMapFixture.so" --symbol pmf_work_1us \
  --signature 'double(double)' --input "$run/numbers" --output "$run/local.out" >/dev/null 2>"$run/err-pm-local" \
  || { cat "$run/err-pm-local" >&2; fail "the local parmap run failed"; }
"$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$launcher" parmap \
  --library "$bin/libParMapFixture.so" --symbol pmf_work_1us --signature 'double(double)' \
  --input "$run/numbers" --output "$run/remote.out" >/dev/null 2>"$run/err-pm" \
  || { cat "$run/err-pm" >&2; fail "the parmap run over ssh failed"; }
cmp -s "$run/local.out" "$run/remote.out" || fail "parmap over ssh differs from the local run"
[ "$(wc -l <"$run/remote.out")" = 20000 ] || fail "parmap over ssh: expected 20000 lines"
echo "remote-hosts: ok: parmap over ssh with a library only the master has: 20000 results, same bytes as locally"

# 3. ProofCheck on the shared iset.mm across both hosts. The database and the master's image
#    file are invisible there: the image travels as a blob, once per host, then sits in the
#    host's cache; no theorem is checked in the master (that would be the fallback).
iset=$(realpath -m "$repo/../shared/data/metamath/iset.mm")
ssh -F "$run/ssh_config" "${hosts[0]}" test -e "$iset" && fail "$iset is visible remotely"
cache_size() { ssh -F "$run/ssh_config" "$1" 'ls /root/.cache/plugin-host/blobs 2>/dev/null | wc -l'; }
before=("$(cache_size "${hosts[0]}")" "$(cache_size "${hosts[1]}")")
"$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$launcher" --events "$run/e-pc.jsonl" \
  proofcheck "$iset" >"$run/out-pc" 2>"$run/err-pc" || { cat "$run/out-pc" "$run/err-pc" >&2; fail "proofcheck over ssh failed"; }
grep -qF "8573 proofs: 8573 verified, 0 failed, 0 incomplete" "$run/out-pc" || { cat "$run/out-pc" >&2; fail "proofcheck over ssh: wrong counts"; }
if grep -q "in the master" "$run/err-pc"; then cat "$run/err-pc" >&2; fail "proofcheck fell back to the master"; fi
read -r count slots _ < <(check_events "$run/e-pc.jsonl") || fail "events of the proofcheck run: see above"
[ "$slots" = "0,1" ] || fail "proofcheck batches ran on slots $slots, expected both hosts"
for i in 0 1; do
  added=$(( $(cache_size "${hosts[$i]}") - before[i] ))
  [ "$added" = 2 ] || fail "expected the image and the plugin once each in ${hosts[$i]}'s blob cache, found $added new file(s)"
done
echo "remote-hosts: ok: proofcheck iset.mm over ssh: $(grep -o '8573 proofs.*' "$run/out-pc"); $count batches on both hosts; image and plugin cached once per host"

# Waits until host 2 (slot 1) started a task of the run writing events to $1 (worker names
# starting $2) and at least $3 tasks ended, then cuts host 2's link and kills its sshd, and waits
# for the master (pid $master); sets $code to its exit status.
cut_host2_mid_run() {
  local events=$1 worker=$2 minimum=$3 ended
  for _ in $(seq 600); do
    ended=$(grep -c '"event":"task-ended"' "$events" 2>/dev/null || true)
    [ "${ended:-0}" -ge "$minimum" ] && grep -q "\"event\":\"task-started\".*\"worker\":\"$worker" "$events" && break
    sleep 0.05
  done
  grep -q "\"worker\":\"$worker" "$events" || fail "host 2 never got a task"
  ip link set "vh2-$tag" down
  stop_host 2
  set +e
  wait "$master"
  code=$?
  set -e
  grep -q "host ${hosts[1]}" "$run/err-cut" || { cat "$run/err-cut" >&2; fail "the host's failure was not reported"; }
}

# 4. Cut host 2's link mid-run and kill its sshd: the run completes on host 1.
"$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$launcher" --events "$run/e2.jsonl" \
  --heartbeat 0.3 --retries 2 --policy persistent chaos --repeat 60 sleep:100 >"$run/out2" 2>"$run/err-cut" &
master=$!
cut_host2_mid_run "$run/e2.jsonl" "chaos:1:" 6
[ "$code" = 0 ] || { cat "$run/err-cut" >&2; fail "the run with a cut link exited $code"; }
read -r count slots reasons < <(check_events "$run/e2.jsonl") || fail "events of the cut-link run: see above"
[ "$count" = 60 ] || fail "expected 60 tasks, got $count"
case "$reasons" in
  *"host ${hosts[1]}"*"sent nothing for"* | *"host ${hosts[1]}"*"no word from its worker agent"*) ;;
  *) fail "the lost task's retry does not name the silent host: $reasons" ;;
esac
if pgrep -f "ssh -F $run/ssh_config" >/dev/null; then fail "ssh clients left behind"; fi
echo "remote-hosts: ok: link of ${hosts[1]} cut mid-run: 60 tasks each ended once, done; reported: $(grep -m1 "host ${hosts[1]}" "$run/err-cut")"

# 5. The same with ProofCheck: iset.mm in many small batches, persistent workers; host 2's link
#    is cut after it finished a few batches. Every batch ends once, all 8,573 proofs verify.
#    Batches of about two proofs (4,000 per worker) make the checking last seconds over ssh, not
#    the few hundred milliseconds 400 per worker took: the events file is written through a
#    4 KB buffer and polled every 50 ms, and on a loaded machine a short run could end before the
#    poll saw host 2 start, so the link was cut after the run and no failure was reported.
restore_host 2
"$bin/plugin-host" run --no-progress --hosts "$run/hosts" --launcher "$launcher" --events "$run/e-pc2.jsonl" \
  --heartbeat 0.3 --retries 2 proofcheck --persistent --batches-per-worker 4000 "$iset" >"$run/out-pc2" 2>"$run/err-cut" &
master=$!
cut_host2_mid_run "$run/e-pc2.jsonl" "proofcheck:1:" 10
grep -qF "8573 proofs: 8573 verified, 0 failed, 0 incomplete" "$run/out-pc2" && [ "$code" = 0 ] \
  || { cat "$run/out-pc2" "$run/err-cut" >&2; fail "proofcheck with a cut link exited $code"; }
read -r count _ _ < <(check_events "$run/e-pc2.jsonl") || fail "events of the proofcheck cut-link run: see above"
echo "remote-hosts: ok: proofcheck with ${hosts[1]}'s link cut mid-run: $count batches each ended once; $(grep -o '8573 proofs: [^,]*' "$run/out-pc2")"
