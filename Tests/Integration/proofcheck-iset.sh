#!/usr/bin/env bash
# Integration test (release build, run by `make test`): every proof of iset.mm verified through
# plugin-host with 2 one-shot workers and with 2 persistent workers, with the exact count.
#
# usage: Tests/Integration/proofcheck-iset.sh RELEASE_BIN_DIR
set -euo pipefail
bin=${1:?usage: proofcheck-iset.sh RELEASE_BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
iset=$(realpath -m "$here/../../../shared/data/metamath/iset.mm")
if [ ! -r "$iset" ]; then
  echo "proofcheck-iset: FAIL: $iset is missing (../shared must sit beside the package)" >&2
  exit 1
fi
status=0
for mode in "" "--persistent"; do
  set +e
  out=$("$bin/plugin-host" run -j 2 --no-progress proofcheck $mode "$iset" 2>/tmp/proofcheck-iset.err)
  code=$?
  set -e
  expected="proofcheck: $iset: 8573 proofs: 8573 verified, 0 failed, 0 incomplete"
  if [ $code -eq 0 ] && grep -qF "$expected" <<<"$out"; then
    echo "proofcheck-iset: ok ${mode:---one-shot}: $(tail -1 <<<"$out")"
  else
    echo "proofcheck-iset: FAIL ${mode:---one-shot}: exit $code" >&2
    echo "$out" | tail -5 >&2
    tail -5 /tmp/proofcheck-iset.err >&2
    status=1
  fi
done
exit $status
