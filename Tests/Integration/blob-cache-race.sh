#!/usr/bin/env bash
# Integration test (release build, run by `make test`): two workers on one "remote" host fetch
# ProofCheck's image into an empty blob cache at the same moment. The one that stores it second
# must not replace the file the first one is reading (it did, by rename: the first worker's image
# reader saw the file change, and the master checked a third of the theorems itself, in 5 of 6
# runs on iset.mm x10). Every run: all proofs verified, none checked in the master.
#
# The host is reached through a stand-in for ssh that runs the command here, so that each worker
# gets the blob through the protocol and the cache, as on another machine.
#
# usage: Tests/Integration/blob-cache-race.sh RELEASE_BIN_DIR
set -euo pipefail
bin=${1:?usage: blob-cache-race.sh RELEASE_BIN_DIR}
here=$(cd "$(dirname "$0")" && pwd)
shared=$(realpath -m "$here/../../../shared")
iset="$shared/data/metamath/iset.mm"
[ -r "$iset" ] || { echo "blob-cache-race: FAIL: $iset is missing (../shared must sit beside the package)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/ph-blob-race.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 "$shared/tools/scale-mm.py" "$iset" 10 "$work/x10.mm" >/dev/null
printf '#!/bin/sh\nshift\nexec "$@"\n' >"$work/fake-ssh"
chmod +x "$work/fake-ssh"
echo "far 2" >"$work/hosts"
q() { printf '%q' "$1"; }
launcher="$(q "$work/fake-ssh") {host} /usr/bin/env PLUGIN_HOST_BLOB_CACHE=$(q "$work/cache") $(q "$bin/plugin-worker")"
for round in 1 2 3 4; do
  rm -rf "$work/cache"
  mkdir -m 700 "$work/cache"
  set +e
  "$bin/plugin-host" run -j 2 --no-progress --hosts "$work/hosts" --launcher "$launcher" \
    proofcheck "$work/x10.mm" >"$work/out" 2>"$work/err"
  code=$?
  set -e
  if [ $code -ne 0 ] || ! grep -qF "85730 proofs: 85730 verified, 0 failed, 0 incomplete" "$work/out" \
     || grep -q "in the master" "$work/out" "$work/err"; then
    echo "blob-cache-race: FAIL in round $round (exit $code):" >&2
    tail -n 3 "$work/out" "$work/err" >&2
    exit 1
  fi
done
echo "blob-cache-race: ok: 4 runs, two workers fetching one image into an empty cache: $(grep -o '85730 proofs: [^,]*' "$work/out")"
