#!/usr/bin/env bash
# Integration test (release build, run by `make test`): the installable SDK. `make install` into
# a DESTDIR, then the C example (Examples/plugins/c-wordcount/wordcount.c, which the README
# holds byte for byte: examples.sh checks it and builds the examples with their own build files)
# built with nothing but `cc $(pkg-config --cflags plugin-host) -shared -fPIC`, run by the
# installed host, which finds its bundled plugins in PREFIX/lib/plugin-host. Also: --version,
# the man page renders, the completion scripts exist and complete plugin names, and no test
# fixture was installed.
#
# usage: Tests/Integration/sdk-install.sh RELEASE_BIN_DIR
set -euo pipefail
bin=${1:?usage: sdk-install.sh RELEASE_BIN_DIR}
package=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ph-sdk-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "sdk-install: FAIL: $*" >&2; exit 1; }

make -s -C "$package" install DESTDIR="$work/dest" PREFIX=/usr/local >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "make install"; }
root="$work/dest/usr/local"
host="$root/bin/plugin-host"
cmp -s "$host" "$bin/plugin-host" || fail "the installed plugin-host is not the release build's"

# The C example, out of the tree.
cp "$package/Examples/plugins/c-wordcount/wordcount.c" "$work/wordcount.c"
cflags=$(PKG_CONFIG_PATH="$root/lib/pkgconfig" pkg-config --define-prefix --cflags plugin-host)
(cd "$work" && cc $cflags -shared -fPIC -o libwordcount.so wordcount.c) || fail "the C example does not build with cflags '$cflags'"
out=$(cd "$work" && "$host" run --no-progress ./libwordcount.so "one two three" "four five" "" 2>"$work/run.err") \
  || { cat "$work/run.err" >&2; fail "the C example's run failed"; }
[ "$out" = "wordcount: 5 words in 3 texts" ] || fail "the C example printed '$out'"

# A bundled plugin, found by name in PREFIX/lib/plugin-host, run by the installed worker.
out=$("$host" run -j 2 --no-progress proofcheck "$package/Examples/proofcheck/implication.mm" 2>"$work/run.err") \
  || { cat "$work/run.err" >&2; fail "the installed proofcheck failed"; }
grep -q "8 proofs: 8 verified" <<<"$out" || fail "the installed proofcheck printed '$out'"

# --version: the host's version and the ABI of the installed header.
major=$(sed -n 's/^#define PH_ABI_VERSION_MAJOR \([0-9]*\).*/\1/p' "$root/include/plugin-host/plugin_abi.h")
minor=$(sed -n 's/^#define PH_ABI_VERSION_MINOR \([0-9]*\).*/\1/p' "$root/include/plugin-host/plugin_abi.h")
version=$("$host" --version)
[[ "$version" =~ ^plugin-host\ [0-9]+\.[0-9]+\.[0-9]+\ \(plugin\ ABI\ $major\.$minor,\ worker\ protocol\ [0-9]+\)$ ]] \
  || fail "--version printed '$version'"
[ "$(PKG_CONFIG_PATH="$root/lib/pkgconfig" pkg-config --modversion plugin-host)" = "$(echo "$version" | cut -d' ' -f2)" ] \
  || fail "plugin-host.pc's version is not the host's"

# The bundled plugins are found beside the installed host; no fixture is installed.
listed=$("$host" list | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' ')
[ "$listed" = "parmap proofcheck " ] || fail "the installed host lists '$listed'"
installed=$(cd "$root" && find . -name '*.so*' | sort | tr '\n' ' ')
[ "$installed" = "./lib/plugin-host/libParMap.so ./lib/plugin-host/libProofCheck.so " ] || fail "installed libraries: $installed"

# The man page renders, with every subcommand.
page="$root/share/man/man1/plugin-host.1"
manual=$(MANWIDTH=80 man -l "$page" 2>"$work/man.err") || { cat "$work/man.err" >&2; fail "man -l $page"; }
for word in run list describe --plugin-path --job-file; do
  grep -q -- "$word" <<<"$manual" || fail "the man page does not mention $word"
done

# Completions: present, and bash's completes plugin names from the installed plugin directory.
for file in share/bash-completion/completions/plugin-host share/zsh/site-functions/_plugin-host \
            share/fish/vendor_completions.d/plugin-host.fish; do
  [ -s "$root/$file" ] || fail "no completion script $file"
done
names=$(bash -c 'source "$1"; COMP_WORDS=("$2" run ""); COMP_CWORD=2; COMP_LINE="$2 run "; COMP_POINT=${#COMP_LINE}
                 _plugin-host; printf "%s\n" "${COMPREPLY[@]}"' - "$root/share/bash-completion/completions/plugin-host" "$host" | sort | tr '\n' ' ')
[ "$names" = "parmap proofcheck " ] || fail "bash completes the plugin name with '$names'"
echo "sdk-install: ok: installed $version, the C example built with pkg-config and run, man page, completions"
