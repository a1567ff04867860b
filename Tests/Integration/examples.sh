#!/usr/bin/env bash
# Integration test (release build, run by `make test`): the examples. `make install` into a
# DESTDIR; then each example of Examples/plugins is copied out of the tree and built against
# that installed SDK alone (the C plugin by its Makefile, with pkg-config; the Swift plugin by
# SwiftPM against PREFIX/share/plugin-host/sdk, resolving no other package) and run by the
# installed plugin-host, which is not rebuilt. And README.md (or README_FILE) holds every file
# of Examples/plugins and Examples/library byte for byte: the fenced block after a line ending
# in "`PATH`:" (blank lines between) is the file PATH, so the README cannot drift from them.
#
# usage: Tests/Integration/examples.sh RELEASE_BIN_DIR [README_FILE]
set -euo pipefail
bin=${1:?usage: examples.sh RELEASE_BIN_DIR [README_FILE]}
package=$(cd "$(dirname "$0")/../.." && pwd)
readme=${2:-$package/README.md}
work=$(mktemp -d "${TMPDIR:-/tmp}/ph-examples.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "examples: FAIL: $*" >&2; exit 1; }

# The README's copy of each example file.
# (Build products of an example built in the tree are not example files.)
files=$(cd "$package" && find Examples/plugins Examples/library -type f ! -path '*/.build/*' ! -path '*/.swiftpm/*' \
          ! -name '*.so' ! -name Package.resolved | sort)
for file in $files; do
  awk -v label="\`$file\`:" '
    state == 0 && length($0) >= length(label) && substr($0, length($0) - length(label) + 1) == label { state = 1; next }
    state == 1 && $0 == "" { next }
    state == 1 { if ($0 ~ /^```/) { state = 2; next } else exit 3 }
    state == 2 && $0 == "```" { state = 3; exit }
    state == 2 { print }
    END { if (state != 3) exit 3 }' "$readme" >"$work/block" \
    || fail "$readme has no code block after a line ending in '\`$file\`:'"
  cmp -s "$work/block" "$package/$file" \
    || { diff "$package/$file" "$work/block" >&2 || true; fail "$readme's block for $file differs from the file (diff above: < file, > README)"; }
done

make -s -C "$package" install DESTDIR="$work/dest" PREFIX=/usr/local >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "make install"; }
root="$work/dest/usr/local"
cmp -s "$root/bin/plugin-host" "$bin/plugin-host" || fail "the installed plugin-host is not the release build's"
export PATH="$root/bin:$PATH"
# pkg-config finds the staged plugin-host.pc; its paths point into the DESTDIR.
export PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$work/dest"

# The C plugin: its Makefile, `make` then `make run`, out of the tree.
cp -R "$package/Examples/plugins/c-wordcount" "$work/c-wordcount"
rm -f "$work/c-wordcount/libwordcount.so"
built=$(make -s -C "$work/c-wordcount" 2>&1) || { echo "$built" >&2; fail "the C example does not build"; }
[ -z "$built" ] || { echo "$built" >&2; fail "the C example builds with warnings"; }
out=$(make -s -C "$work/c-wordcount" run 2>"$work/run.err") || { cat "$work/run.err" >&2; fail "make run of the C example failed"; }
[ "$out" = "wordcount: 5 words in 3 texts" ] || fail "the C example printed '$out'"

# The Swift plugin: its own package, the installed SDK its only dependency.
sdk=$(pkg-config --define-prefix --variable=sdkdir plugin-host)
[ -f "$sdk/Package.swift" ] && [ -f "$sdk/Sources/PluginKit/TaskKind.swift" ] && [ ! -L "$sdk/Sources/PluginKit" ] \
  || fail "no SDK package (files, not links) in '$sdk'"
cp -R "$package/Examples/plugins/swift-primecount" "$work/swift-primecount"
rm -rf "$work/swift-primecount/.build"
# (SwiftPM puts lock files named after the package's path in TMPDIR: here, inside $work, so the
# trap removes them with the rest.)
mkdir -p "$work/tmp"
(cd "$work/swift-primecount" && TMPDIR="$work/tmp" PLUGIN_HOST_SDK="$sdk" swift build -c release >"$work/swift.log" 2>&1) \
  || { cat "$work/swift.log" >&2; fail "the Swift example does not build against $sdk"; }
! grep -q 'warning:' "$work/swift.log" || { cat "$work/swift.log" >&2; fail "the Swift example builds with warnings"; }
[ ! -e "$work/swift-primecount/Package.resolved" ] && [ -z "$(ls -A "$work/swift-primecount/.build/checkouts" 2>/dev/null)" ] \
  || fail "the Swift example resolved packages besides the SDK"
# One worker for every task: the task failure (N above the sieve's limit) keeps it.
status=0
out=$(cd "$work/swift-primecount" && plugin-host run -j 1 --plugin-path .build/release primecount 10 100 1000 200000000 \
        2>"$work/run.err") || status=$?
[ "$status" = 1 ] || { cat "$work/run.err" >&2; fail "the Swift example exited $status, not 1 (one task fails)"; }
[ "$out" = $'primes below 10: 4\nprimes below 100: 25\nprimes below 1000: 168' ] || fail "the Swift example printed '$out'"
grep -q '^plugin-host: primecount task 4 (N=200000000) failed: 200000000 is above the largest N, 100000000$' "$work/run.err" \
  || { cat "$work/run.err" >&2; fail "no failure line for N=200000000"; }
grep -q ', 1 worker started$' "$work/run.err" || { cat "$work/run.err" >&2; fail "the task failure did not keep the worker"; }

echo "examples: ok: README holds $(echo $files | wc -w) example files; C and Swift plugins built out of tree against the installed SDK and run by the installed host"
