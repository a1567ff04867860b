# PluginHost — set-up, demo, tests and benchmarks. Every target installs what it needs.
SWIFT ?= swift
BIN := $(shell $(SWIFT) build --show-bin-path 2>/dev/null)
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

.PHONY: all deps test-deps build demo test bench clean install install-files

all: build

# libffi-dev (for the ParMap plugin) through apt-get when it is missing.
deps:
	@if ! pkg-config --exists libffi 2>/dev/null && [ ! -e /usr/include/x86_64-linux-gnu/ffi.h ] && [ ! -e /usr/include/ffi.h ]; then \
		echo "installing libffi-dev and pkg-config"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libffi-dev pkg-config; \
	fi

# For the remote-worker tests: real sshd and ssh, iproute2 for network namespaces, python3 for
# the test scripts (and a launcher that damages a blob in transit); Debian's Slurm and munge for
# the Slurm test (no service is started: the test starts its own daemons); Debian's Metamath
# databases (set.mm) for the Slurm test and bench.
test-deps:
	@if [ ! -x /usr/sbin/sshd ] || ! command -v ssh >/dev/null || ! command -v ip >/dev/null || ! command -v python3 >/dev/null \
	    || [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/slurmd ] || ! command -v srun >/dev/null || [ ! -x /usr/sbin/munged ] \
	    || [ ! -r /usr/share/metamath/databases/set.mm ]; then \
		echo "installing openssh-server, openssh-client, iproute2, python3, slurm-wlm, munge and metamath-databases"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server openssh-client iproute2 python3 slurm-wlm munge metamath-databases; \
	fi

build: deps
	$(SWIFT) build

# The main job on the bundled example: every proof of a small Metamath database, verified by
# two one-shot workers.
demo: build
	$(BIN)/plugin-host run -j 2 proofcheck Examples/proofcheck/implication.mm

# Unit and CLI tests (debug), the engine's tests again through fork servers and again through a
# local worker agent, then the release integration tests: all of iset.mm through the host, two workers filling one blob cache at once,
# workers on two ssh hosts in network namespaces, workers placed by a real two-node Slurm
# (the README's recipe), and the HTML report of a chaos run rendered by a headless chromium;
# then the SDK installed into a DESTDIR and the examples of Examples/plugins built out of the
# tree against it (the README holds them byte for byte).
test: build test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	# The engine's suites once more with every local worker exec'd (--no-fork-server).
	PLUGIN_HOST_TEST_EXEC_WORKERS=1 $(SWIFT) test --skip-build --filter PluginHostTests
	# And once more with every worker started through a local worker agent (its one connection,
	# fork server and relay).
	PLUGIN_HOST_TEST_AGENT=1 $(SWIFT) test --skip-build --filter PluginHostTests
	$(SWIFT) build -c release
	bash Tests/Integration/proofcheck-iset.sh $(RELEASE_BIN)
	bash Tests/Integration/journal-resume.sh $(RELEASE_BIN)
	bash Tests/Integration/blob-cache-race.sh $(RELEASE_BIN)
	bash Tests/Integration/remote-hosts.sh $(RELEASE_BIN)
	bash Tests/Integration/slurm.sh $(RELEASE_BIN)
	bash Tests/Integration/sdk-install.sh $(RELEASE_BIN)
	bash Tests/Integration/examples.sh $(RELEASE_BIN)
	bash Tests/Integration/report-browser.sh $(RELEASE_BIN)

bench: deps test-deps
	$(SWIFT) build -c release
	bash Benchmarks/run.sh $(RELEASE_BIN)
	bash Benchmarks/oneshot.sh $(RELEASE_BIN)
	bash Benchmarks/parmap/run.sh $(RELEASE_BIN)
	bash Benchmarks/journal/run.sh $(RELEASE_BIN)
	bash Benchmarks/remote/run.sh $(RELEASE_BIN)
	bash Benchmarks/slurm/run.sh $(RELEASE_BIN)

# The SDK from the release build: plugin-host and plugin-worker in PREFIX/bin, the bundled plugins
# in PREFIX/lib/plugin-host (the host searches ../lib/plugin-host from its own directory), the C
# headers in PREFIX/include/plugin-host with a pkg-config file, the man page (argument-parser's
# generate-manual) and bash, zsh and fish completions. Test fixtures are not installed. The Swift
# SDK package (SDK/: PluginABI and PluginKit, no dependency, its links copied as files) goes in
# PREFIX/share/plugin-host/sdk, named by plugin-host.pc's sdkdir variable.
# `install-files` installs from an existing release build (RELEASE_BIN) without building.
PREFIX ?= /usr/local
DESTDIR ?=
PLUGINS := libProofCheck.so libParMap.so
install: deps
	$(SWIFT) build -c release
	$(SWIFT) package plugin generate-manual
	$(MAKE) install-files
install-files:
	@set -e; root="$(DESTDIR)$(PREFIX)"; bin="$(RELEASE_BIN)"; \
	version=$$("$$bin/plugin-host" --version | cut -d' ' -f2); \
	install -d "$$root/bin" "$$root/lib/plugin-host" "$$root/include/plugin-host/ph/ext" "$$root/include/plugin-host/ph/util" \
	    "$$root/lib/pkgconfig" "$$root/share/man/man1" "$$root/share/bash-completion/completions" \
	    "$$root/share/zsh/site-functions" "$$root/share/fish/vendor_completions.d" "$$root/share/plugin-host/sdk"; \
	install -m 755 "$$bin/plugin-host" "$$bin/plugin-worker" "$$root/bin/"; \
	for plugin in $(PLUGINS); do install -m 755 "$$bin/$$plugin" "$$root/lib/plugin-host/"; done; \
	install -m 644 Sources/PluginABI/include/plugin_abi.h "$$root/include/plugin-host/"; \
	install -m 644 Sources/PluginABI/include/ph/ext/*.h "$$root/include/plugin-host/ph/ext/"; \
	install -m 644 Sources/PluginABI/include/ph/util/*.h "$$root/include/plugin-host/ph/util/"; \
	rm -rf "$$root/share/plugin-host/sdk/Sources"; cp -RL SDK/Package.swift SDK/Sources "$$root/share/plugin-host/sdk/"; \
	printf '%s\n' '# No Libs: a plugin links nothing of the host, it is called through its descriptor.' \
	    "prefix=$(PREFIX)" 'includedir=$${prefix}/include/plugin-host' 'sdkdir=$${prefix}/share/plugin-host/sdk' '' 'Name: plugin-host' \
	    'Description: C headers for PluginHost task-kind plugins (plugin_abi.h, ph/ext, ph/util)' \
	    "Version: $$version" 'Cflags: -I$${includedir}' > "$$root/lib/pkgconfig/plugin-host.pc"; \
	install -m 644 .build/plugins/GenerateManual/outputs/plugin-host/plugin-host.1 "$$root/share/man/man1/"; \
	"$$bin/plugin-host" --generate-completion-script bash > "$$root/share/bash-completion/completions/plugin-host"; \
	"$$bin/plugin-host" --generate-completion-script zsh > "$$root/share/zsh/site-functions/_plugin-host"; \
	"$$bin/plugin-host" --generate-completion-script fish > "$$root/share/fish/vendor_completions.d/plugin-host.fish"; \
	echo "installed plugin-host $$version in $$root"

clean:
	rm -rf .build Benchmarks/out
